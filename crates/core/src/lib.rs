//! durapipe-core (work in progress).
