//! durapipe-local (work in progress).
