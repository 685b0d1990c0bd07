//! durapipe-durable (work in progress).
