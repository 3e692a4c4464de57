"""Tables of the surveys domain."""
