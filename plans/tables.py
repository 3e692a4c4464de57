"""Tables of the plans domain."""
