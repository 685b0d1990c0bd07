//! durapipe-aws (work in progress).
