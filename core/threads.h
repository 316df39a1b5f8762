#pragma once
/// CPU threads: the BLAS library's for matmuls (OpenBLAS), and nudge's own pool for large
/// elementwise loops (64k elements and more; the same bits with any number of threads).

namespace nudge {

/// Sets both thread counts (>= 1). The default is the NUDGE_NUM_THREADS environment variable when
/// set, else OpenBLAS's (OPENBLAS_NUM_THREADS, or every core it sees); OpenBLAS itself runs small
/// GEMMs on one thread. One MPI rank per core: set 1.
void set_num_threads(int threads);
int num_threads();

}  // namespace nudge
