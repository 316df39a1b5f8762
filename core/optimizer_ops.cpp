// The multi-tensor optimizer steps: the parameters are grouped by device and dtype, each group
// becomes one backend call (one kernel launch on CUDA for up to 200 parameters).
#include "core/optimizer_ops.h"

#include <algorithm>
#include <cstdint>

#include "core/autograd/grad_mode.h"
#include "kernels/dispatch.h"

// core reaches the backends only through the dispatch tables and the plain-data calls.
using namespace nudge::kernels;  // NOLINT(google-build-using-namespace)

namespace nudge {

namespace {

struct SlotGroup {
  Device device;
  DType dtype;
  std::vector<ParamSlot> slots;
};

/// Checks one parameter and its gradient and adds its slot to the group of its device and dtype.
/// `keep` holds contiguous copies of strided gradients until the kernels have run.
void add_slot(std::vector<SlotGroup>& groups, std::vector<Tensor>& keep, const Tensor& p, const Tensor& grad,
              ParamSlot slot, const char* op) {
  NUDGE_CHECK(p.defined() && grad.defined(), op, ": a parameter or its gradient is undefined");
  NUDGE_CHECK(p.is_contiguous(), op, ": parameters must be contiguous, got a ", describe(p));
  NUDGE_CHECK(grad.shape() == p.shape() && grad.dtype() == p.dtype() && grad.device() == p.device(), op, ": gradient ",
              describe(grad), " does not match its parameter ", describe(p));
  const Tensor g = grad.contiguous();
  if (g.data_ptr() != grad.data_ptr()) keep.push_back(g);
  slot.param = p.data_ptr();
  slot.grad = g.data_ptr();
  slot.numel = p.numel();
  p.storage()->bump_version();  // updated in place: saved copies of it are now stale
  auto it = std::find_if(groups.begin(), groups.end(),
                         [&](const SlotGroup& sg) { return sg.device == p.device() && sg.dtype == p.dtype(); });
  if (it == groups.end()) it = groups.insert(groups.end(), SlotGroup{p.device(), p.dtype(), {}});
  it->slots.push_back(slot);
}

/// The state tensor's data, checked against its parameter.
void* state_data(const Tensor& state, const Tensor& p, const char* what, const char* op) {
  NUDGE_CHECK(state.defined() && state.shape() == p.shape() && state.dtype() == p.dtype() &&
                  state.device() == p.device() && state.is_contiguous(),
              op, ": ", what, " must be a contiguous tensor like its parameter ", describe(p), ", got a ",
              state.defined() ? describe(state) : std::string("undefined tensor"));
  state.storage()->bump_version();
  return state.data_ptr();
}

/// A one-element float64 tensor on `p`'s device (a learning rate, a step count): its address.
double* scalar_data(const Tensor& t, const Tensor& p, const char* what, const char* op) {
  NUDGE_CHECK(t.defined() && t.numel() == 1 && t.dtype() == kFloat64 && t.device() == p.device(), op, ": ", what,
              " must be a one-element float64 tensor on ", p.device(), ", got a ",
              t.defined() ? describe(t) : std::string("undefined tensor"));
  return static_cast<double*>(t.data_ptr());
}

/// The memory one step touches, by parameter: the update kernel runs every slot at once, so a
/// buffer it writes (parameter, state, step count) must not overlap any other buffer of the call;
/// gradients are only read and may be shared. Checked on every call, since parameters can join a
/// group after the optimizer was built and sgd_step_/adam_step_ are public.
class Footprint {
 public:
  void add(const Tensor& t, std::size_t param, const char* what, bool written) {
    if (t.numel() == 0) return;
    const auto begin = reinterpret_cast<std::uintptr_t>(t.data_ptr());
    ranges_.push_back({begin, begin + static_cast<std::uintptr_t>(t.numel()) * t.element_size(), param, what, written});
  }
  void check(const char* op) {
    if (ranges_.size() < 2) return;
    std::stable_sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
    const Range *furthest = nullptr, *furthest_written = nullptr;  // the ranges reaching furthest so far
    for (const Range& r : ranges_) {
      const Range* clash = r.written ? furthest : furthest_written;
      NUDGE_CHECK(clash == nullptr || r.begin >= clash->end, op, ": the ", clash ? clash->what : "", " of parameter ",
                  clash ? clash->param : 0, " and the ", r.what, " of parameter ", r.param,
                  " share memory; one update writes every parameter at once, so each buffer it writes (parameter, "
                  "state, step count) must be its own (a parameter listed twice, or a step tensor shared?)");
      if (furthest == nullptr || r.end > furthest->end) furthest = &r;
      if (r.written && (furthest_written == nullptr || r.end > furthest_written->end)) furthest_written = &r;
    }
  }

 private:
  struct Range {
    std::uintptr_t begin, end;
    std::size_t param;
    const char* what;
    bool written;
  };
  std::vector<Range> ranges_;
};

}  // namespace

void sgd_step_(const std::vector<SgdParam>& params, const SgdHyper& hyper) {
  NoGradGuard no_grad;
  std::vector<SlotGroup> groups;
  std::vector<Tensor> keep;
  Footprint footprint;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const SgdParam& sp = params[i];
    if (sp.param.numel() == 0) continue;
    ParamSlot slot{nullptr,       nullptr, nullptr, nullptr, 0, scalar_data(sp.lr, sp.param, "lr", "sgd_step_"),
                   sp.first_step, nullptr};
    if (hyper.momentum != 0) {
      slot.state1 = state_data(sp.momentum_buffer, sp.param, "the momentum buffer", "sgd_step_");
      footprint.add(sp.momentum_buffer, i, "momentum buffer", true);
    }
    add_slot(groups, keep, sp.param, sp.grad, slot, "sgd_step_");
    footprint.add(sp.param, i, "parameter", true);
    footprint.add(sp.grad, i, "gradient", false);
  }
  footprint.check("sgd_step_");
  for (const SlotGroup& group : groups) {
    const SgdStepCall call{group.dtype,    group.slots.data(), static_cast<std::int64_t>(group.slots.size()),
                           hyper.momentum, hyper.dampening,    hyper.weight_decay,
                           hyper.nesterov};
    dispatch::sgd_step.run(group.device, "SGD step", call);
  }
}

void adam_step_(const std::vector<AdamParam>& params, const AdamHyper& hyper) {
  NoGradGuard no_grad;
  std::vector<SlotGroup> groups;
  std::vector<Tensor> keep;
  Footprint footprint;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const AdamParam& ap = params[i];
    if (ap.param.numel() == 0) continue;
    ParamSlot slot{nullptr, nullptr,
                   nullptr, nullptr,
                   0,       scalar_data(ap.lr, ap.param, "lr", "adam_step_"),
                   false,   scalar_data(ap.step, ap.param, "step", "adam_step_")};
    ap.step.storage()->bump_version();
    slot.state1 = state_data(ap.exp_avg, ap.param, "exp_avg", "adam_step_");
    slot.state2 = state_data(ap.exp_avg_sq, ap.param, "exp_avg_sq", "adam_step_");
    add_slot(groups, keep, ap.param, ap.grad, slot, "adam_step_");
    footprint.add(ap.param, i, "parameter", true);
    footprint.add(ap.grad, i, "gradient", false);
    footprint.add(ap.exp_avg, i, "exp_avg", true);
    footprint.add(ap.exp_avg_sq, i, "exp_avg_sq", true);
    footprint.add(ap.step, i, "step count", true);  // advanced by the kernel: one per parameter
  }
  footprint.check("adam_step_");
  for (const SlotGroup& group : groups) {
    const AdamStepCall call{group.dtype,
                            group.slots.data(),
                            static_cast<std::int64_t>(group.slots.size()),
                            hyper.beta1,
                            hyper.beta2,
                            hyper.eps,
                            hyper.weight_decay,
                            hyper.decoupled_weight_decay};
    dispatch::adam_step.run(group.device, "Adam step", call);
  }
}

}  // namespace nudge
