//! bfv (in progress)
