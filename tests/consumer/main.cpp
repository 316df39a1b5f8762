#include <cstdio>

#include <nudge/nudge.h>

int main() {
  const nudge::Tensor a = nudge::tensor({1, 2, 3, 4}, {2, 2});
  const double total = nudge::matmul(a, a).sum().item<double>();  // [[7,10],[15,22]] -> 54
  std::printf("consumer: sum(a @ a) = %g\n", total);
  return total == 54.0 ? 0 : 1;
}
