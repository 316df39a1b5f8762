#pragma once
/// CPU threads used by the BLAS library for matmuls (OpenBLAS). Elementwise CPU kernels run on
/// the calling thread.

namespace nudge {

/// Sets the BLAS thread count (>= 1). The default is the NUDGE_NUM_THREADS environment variable
/// when set, else every core OpenBLAS sees; OpenBLAS itself runs small GEMMs on one thread.
void set_num_threads(int threads);
int num_threads();

}  // namespace nudge
