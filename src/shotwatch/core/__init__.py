"""Pure numeric core: numpy in, numpy out; no I/O, no clocks, no globals."""
