// CUDA elementwise kernels: the functors of kernels/functors.h in grid-stride loops, with
// 128-bit loads/stores on the contiguous path and div/mod indexing on the strided path.
#include "kernels/cuda/check.h"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/launch.h"
#include "kernels/strided_index.h"

namespace nudge::kernels::cuda {

// ---- kernels ------------------------------------------------------------------------------------

/// out[i] = f(in[i]) over dense arrays, V elements per load (V = 1 when unaligned). In-place ops
/// pass out == in, so no __restrict__ here or below: with it nvcc may read `in` through the
/// read-only (non-coherent) cache path, which requires memory the kernel does not write.
template <int V, class Out, class In, class F> __global__ void map1_dense(std::int64_t n, Out* out, const In* in, F f) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  const std::int64_t first = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t nvec = n / V;
  for (std::int64_t i = first; i < nvec; i += stride) {
    const Vec<In, V> x = reinterpret_cast<const Vec<In, V>*>(in)[i];
    Vec<Out, V> y;
#pragma unroll
    for (int j = 0; j < V; ++j) y.v[j] = f(x.v[j]);
    reinterpret_cast<Vec<Out, V>*>(out)[i] = y;
  }
  for (std::int64_t i = nvec * V + first; i < n; i += stride) out[i] = f(in[i]);
}

/// out[i] = f(a[i], b[i]) over dense arrays: operands of type T, results of type Out (bool for
/// the predicates).
template <int V, class Out, class T, class F>
__global__ void map2_dense(std::int64_t n, Out* out, const T* a, const T* b, F f) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  const std::int64_t first = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t nvec = n / V;
  for (std::int64_t i = first; i < nvec; i += stride) {
    const Vec<T, V> x = reinterpret_cast<const Vec<T, V>*>(a)[i];
    const Vec<T, V> y = reinterpret_cast<const Vec<T, V>*>(b)[i];
    Vec<Out, V> z;
#pragma unroll
    for (int j = 0; j < V; ++j) z.v[j] = f(x.v[j], y.v[j]);
    reinterpret_cast<Vec<Out, V>*>(out)[i] = z;
  }
  for (std::int64_t i = nvec * V + first; i < n; i += stride) out[i] = f(a[i], b[i]);
}

template <class Out, class In, class F> __global__ void map1_strided(StridedLoop<2> loop, F f) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < loop.numel; i += stride) {
    std::int64_t off[2];
    kernels::strided_offsets(loop, i, off);
    kernels::operand<Out>(loop, 0)[off[0]] = f(kernels::operand<const In>(loop, 1)[off[1]]);
  }
}

template <class Out, class T, class F> __global__ void map2_strided(StridedLoop<3> loop, F f) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < loop.numel; i += stride) {
    std::int64_t off[3];
    kernels::strided_offsets(loop, i, off);
    kernels::operand<Out>(loop, 0)[off[0]] =
        f(kernels::operand<const T>(loop, 1)[off[1]], kernels::operand<const T>(loop, 2)[off[2]]);
  }
}

template <int V, class T> __global__ void fill_dense(std::int64_t n, T* __restrict__ out, T value) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  const std::int64_t first = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const std::int64_t nvec = n / V;
  Vec<T, V> v;
#pragma unroll
  for (int j = 0; j < V; ++j) v.v[j] = value;
  for (std::int64_t i = first; i < nvec; i += stride) reinterpret_cast<Vec<T, V>*>(out)[i] = v;
  for (std::int64_t i = nvec * V + first; i < n; i += stride) out[i] = value;
}

template <class T> __global__ void fill_strided(StridedLoop<1> loop, T value) {
  const std::int64_t stride = std::int64_t{gridDim.x} * blockDim.x;
  for (std::int64_t i = std::int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < loop.numel; i += stride) {
    std::int64_t off[1];
    kernels::strided_offsets(loop, i, off);
    kernels::operand<T>(loop, 0)[off[0]] = value;
  }
}

// ---- launchers ----------------------------------------------------------------------------------

namespace {

template <class Out, class In, class F> void launch_map1(int device, const StridedLoop<2>& loop, F f) {
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  if (loop.numel == 0) return;
  if (loop.contiguous) {
    constexpr int V = 16 / (sizeof(Out) > sizeof(In) ? sizeof(Out) : sizeof(In));
    Out* out = static_cast<Out*>(loop.data[0]);
    const In* in = static_cast<const In*>(loop.data[1]);
    if (aligned_to(out, sizeof(Out) * V) && aligned_to(in, sizeof(In) * V))
      map1_dense<V><<<grid_for(loop.numel / V, ctx), kBlockThreads, 0, ctx.stream>>>(loop.numel, out, in, f);
    else map1_dense<1><<<grid_for(loop.numel, ctx), kBlockThreads, 0, ctx.stream>>>(loop.numel, out, in, f);
  } else {
    map1_strided<Out, In><<<grid_for(loop.numel, ctx), kBlockThreads, 0, ctx.stream>>>(loop, f);
  }
  NUDGE_CUDA_CHECK_LAUNCH();
}

template <class T, class Out = T, class F> void launch_map2(int device, const StridedLoop<3>& loop, F f) {
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  if (loop.numel == 0) return;
  if (loop.contiguous) {
    constexpr int V = 16 / sizeof(T);  // 128-bit operand loads; the (narrower) results follow
    Out* out = static_cast<Out*>(loop.data[0]);
    const T* a = static_cast<const T*>(loop.data[1]);
    const T* b = static_cast<const T*>(loop.data[2]);
    if (aligned_to(out, sizeof(Out) * V) && aligned_to(a, sizeof(T) * V) && aligned_to(b, sizeof(T) * V))
      map2_dense<V><<<grid_for(loop.numel / V, ctx), kBlockThreads, 0, ctx.stream>>>(loop.numel, out, a, b, f);
    else map2_dense<1><<<grid_for(loop.numel, ctx), kBlockThreads, 0, ctx.stream>>>(loop.numel, out, a, b, f);
  } else {
    map2_strided<Out, T><<<grid_for(loop.numel, ctx), kBlockThreads, 0, ctx.stream>>>(loop, f);
  }
  NUDGE_CUDA_CHECK_LAUNCH();
}

}  // namespace

void unary(int device, const UnaryCall& call) {
  visit_numeric_dtype(call.dtype, unary_name(call.op), [&](auto tag) {
    using T = decltype(tag);
    fn::visit_unary<T>(call.op, call.scalar, [&](auto f) { launch_map1<T, T>(device, call.loop, f); });
  });
}

void binary(int device, const BinaryCall& call) {
  visit_numeric_dtype(call.dtype, "binary op", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_binary<T>(call.op, [&](auto f) { launch_map2<T>(device, call.loop, f); });
  });
}

void binary_scalar(int device, const BinaryScalarCall& call) {
  visit_numeric_dtype(call.dtype, "binary op", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_binary_scalar<T>(call.op, call.scalar, call.scalar_first,
                               [&](auto f) { launch_map1<T, T>(device, call.loop, f); });
  });
}

void compare(int device, const CompareCall& call) {
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    fn::visit_compare(call.op, [&](auto f) { launch_map2<T, bool>(device, call.loop, f); });
  });
}

void compare_scalar(int device, const CompareScalarCall& call) {
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    fn::visit_compare_scalar<T>(call.op, call.scalar, [&](auto f) { launch_map1<bool, T>(device, call.loop, f); });
  });
}

void copy(int device, const CopyCall& call) {
  visit_dtype(call.dst_dtype, [&](auto dst_tag) {
    using To = decltype(dst_tag);
    visit_dtype(call.src_dtype,
                [&](auto src_tag) { launch_map1<To, decltype(src_tag)>(device, call.loop, fn::Cast<To>{}); });
  });
}

void fill(int device, const FillCall& call) {
  DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  if (call.loop.numel == 0) return;
  visit_dtype(call.dtype, [&](auto tag) {
    using T = decltype(tag);
    constexpr int V = 16 / sizeof(T);
    const T value = call.value.to<T>();
    T* out = static_cast<T*>(call.loop.data[0]);
    if (call.loop.contiguous && aligned_to(out, sizeof(T) * V))
      fill_dense<V><<<grid_for(call.loop.numel / V, ctx), kBlockThreads, 0, ctx.stream>>>(call.loop.numel, out, value);
    else if (call.loop.contiguous)
      fill_dense<1><<<grid_for(call.loop.numel, ctx), kBlockThreads, 0, ctx.stream>>>(call.loop.numel, out, value);
    else fill_strided<T><<<grid_for(call.loop.numel, ctx), kBlockThreads, 0, ctx.stream>>>(call.loop, value);
  });
  NUDGE_CUDA_CHECK_LAUNCH();
}

}  // namespace nudge::kernels::cuda
