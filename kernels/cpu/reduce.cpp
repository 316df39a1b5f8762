// CPU reductions over a dense [outer, reduce, inner] input, using the reducers of
// kernels/functors.h. Large ones run on the loop pool (parallel.h), split where the split does not
// change what is added to what: by output (each output is reduced whole by one thread) or, for one
// long row, into fixed chunks combined in order; the results are the same with any thread count.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/parallel.h"
#include "kernels/functors.h"

namespace nudge::kernels::cpu {

namespace {

constexpr int kLanes = 8;  // independent accumulators: vectorisable, and less rounding for long sums
/// A row longer than this is reduced in chunks of this many elements (in parallel), combined in
/// order. Fixed, so the summation order depends on the shape only, never on the thread count.
constexpr std::int64_t kRowChunk = 65536;

/// row[0..n) reduced, each element carrying its index first + r.
template <class T, class R> typename R::A reduce_run(const T* row, std::int64_t n, std::int64_t first, R reducer) {
  using A = typename R::A;
  A lanes[kLanes];
  for (auto& l : lanes) l = reducer.identity();
  std::int64_t r = 0;
  for (; r + kLanes <= n; r += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] = reducer.combine(lanes[l], A{row[r + l], first + r + l});
  for (; r < n; ++r) lanes[0] = reducer.combine(lanes[0], A{row[r], first + r});
  A total = lanes[0];
  for (int l = 1; l < kLanes; ++l) total = reducer.combine(total, lanes[l]);
  return total;
}

/// One row of n elements: whole when short, else in kRowChunk chunks (in parallel) combined in order.
template <class T, class R> typename R::A reduce_row(const T* row, std::int64_t n, R reducer) {
  using A = typename R::A;
  if (n <= kRowChunk) return reduce_run(row, n, 0, reducer);
  const std::int64_t chunks = (n + kRowChunk - 1) / kRowChunk;
  std::vector<A> partial(static_cast<std::size_t>(chunks));
  parallel_for_items(chunks, kRowChunk, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t c = begin; c < end; ++c) {
      const std::int64_t first = c * kRowChunk;
      partial[c] = reduce_run(row + first, std::min(kRowChunk, n - first), first, reducer);
    }
  });
  A total = partial[0];
  for (std::int64_t c = 1; c < chunks; ++c) total = reducer.combine(total, partial[c]);
  return total;
}

/// Columns [i0, i1) of one [n, inner] block, each reduced down its n rows; the reduced dim is
/// walked outermost so each step reads a contiguous run of the row.
template <class T, class R>
void reduce_columns(const T* block, std::int64_t n, std::int64_t inner, std::int64_t i0, std::int64_t i1, T* out,
                    std::int64_t* indices, R reducer) {
  using A = typename R::A;
  const std::int64_t width = i1 - i0;
  if constexpr (std::is_same_v<R, fn::SumReducer<T>>) {
    // Sums need no index: plain accumulators, which the compiler vectorises (10x the speed of the
    // value+index pairs below), in the same order, so the same bits.
    using Wide = typename R::Wide;
    std::vector<Wide> sums(static_cast<std::size_t>(width), Wide(0));
    for (std::int64_t r = 0; r < n; ++r) {
      const T* row = block + r * inner + i0;
      for (std::int64_t i = 0; i < width; ++i) sums[i] = fn::add_(sums[i], static_cast<Wide>(row[i]));
    }
    for (std::int64_t i = 0; i < width; ++i) out[i0 + i] = static_cast<T>(sums[i]);
  } else {
    std::vector<A> acc(static_cast<std::size_t>(width), reducer.identity());
    for (std::int64_t r = 0; r < n; ++r)
      for (std::int64_t i = 0; i < width; ++i) acc[i] = reducer.combine(acc[i], A{block[r * inner + i0 + i], r});
    for (std::int64_t i = 0; i < width; ++i) {
      out[i0 + i] = static_cast<T>(acc[i].value);
      if (indices) indices[i0 + i] = acc[i].index;
    }
  }
}

/// One [n, inner] block reduced down its rows. Tall blocks are cut into fixed chunks of rows whose
/// column results are combined in order (each thread streams whole rows: splitting by columns
/// instead made each thread read part of every row, measured 2x slower than one thread).
template <class T, class R>
void reduce_column_block(const T* in, std::int64_t n, std::int64_t inner, T* out, std::int64_t* indices, R reducer) {
  const std::int64_t rows_per_chunk = std::max<std::int64_t>(1, kRowChunk / inner);
  if (n <= rows_per_chunk) return reduce_columns(in, n, inner, 0, inner, out, indices, reducer);
  const std::int64_t chunks = (n + rows_per_chunk - 1) / rows_per_chunk;
  // Sums: plain accumulators (vectorised); the others: value+index pairs.
  constexpr bool kPlain = std::is_same_v<R, fn::SumReducer<T>>;
  using Partial = std::conditional_t<kPlain, typename fn::SumReducer<T>::Wide, typename R::A>;
  const Partial identity = [&] {
    if constexpr (kPlain) return Partial(0);
    else return reducer.identity();
  }();
  std::vector<Partial> partial(static_cast<std::size_t>(chunks * inner), identity);
  parallel_for_items(chunks, rows_per_chunk * inner, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t c = begin; c < end; ++c) {
      const std::int64_t first = c * rows_per_chunk, rows = std::min(rows_per_chunk, n - first);
      Partial* acc = partial.data() + c * inner;
      for (std::int64_t r = 0; r < rows; ++r) {
        const T* row = in + (first + r) * inner;
        if constexpr (kPlain) {
          for (std::int64_t i = 0; i < inner; ++i) acc[i] = fn::add_(acc[i], static_cast<Partial>(row[i]));
        } else {
          for (std::int64_t i = 0; i < inner; ++i) acc[i] = reducer.combine(acc[i], Partial{row[i], first + r});
        }
      }
    }
  });
  for (std::int64_t i = 0; i < inner; ++i) {
    Partial total = partial[i];
    for (std::int64_t c = 1; c < chunks; ++c) {
      if constexpr (kPlain) total = fn::add_(total, partial[c * inner + i]);
      else total = reducer.combine(total, partial[c * inner + i]);
    }
    if constexpr (kPlain) {
      out[i] = static_cast<T>(total);
    } else {
      out[i] = static_cast<T>(total.value);
      if (indices) indices[i] = total.index;
    }
  }
}

template <class T, class R> void reduce_all(const ReduceCall& call, R reducer) {
  const T* in = static_cast<const T*>(call.in);
  T* out = static_cast<T*>(call.out);
  const std::int64_t n = call.reduce, inner = call.inner;
  const auto one_output_block = [&](std::int64_t o) {
    if (inner == 1) {
      const auto total = reduce_row(in + o * n, n, reducer);
      out[o] = static_cast<T>(total.value);
      if (call.indices) call.indices[o] = total.index;
      return;
    }
    reduce_columns(in + o * n * inner, n, inner, 0, inner, out + o * inner,
                   call.indices ? call.indices + o * inner : nullptr, reducer);
  };
  if (call.outer > 1) {  // by output block: each is reduced whole, by one thread
    parallel_for_items(call.outer, n * inner, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t o = begin; o < end; ++o) one_output_block(o);
    });
    return;
  }
  if (inner > 1) {  // one block of columns (a bias gradient)
    reduce_column_block(in, n, inner, out, call.indices, reducer);
    return;
  }
  if (call.outer == 1) one_output_block(0);
}

}  // namespace

void reduce(int, const ReduceCall& call) {
  visit_numeric_dtype(call.dtype, "reduction", [&](auto tag) {
    using T = decltype(tag);
    fn::visit_reducer<T>(call.op, [&](auto reducer) { reduce_all<T>(call, reducer); });
  });
}

}  // namespace nudge::kernels::cpu
