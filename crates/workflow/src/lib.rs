//! durapipe-workflow (work in progress).
