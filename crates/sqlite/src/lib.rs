//! durapipe-sqlite (work in progress).
