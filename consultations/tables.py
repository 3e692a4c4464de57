"""Tables of the consultations domain."""
