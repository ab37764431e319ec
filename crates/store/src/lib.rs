//! Store being written by the lead.
