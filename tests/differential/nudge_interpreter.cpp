// Runs the small random programs of the differential tester (difftest.py) in nudge: one JSON
// program per input line, one JSON result per output line. The same programs run in PyTorch on
// the Python side; difftest.py compares the two.
//
// A program: {"device": "cpu"|"cuda", "inputs": [{"shape": [...], "dtype": "float64", "values":
// ["<hex float>", ...], "grad": bool}], "ops": [{"op": NAME, "args": [tensor indices], ...}]}.
// Tensors are numbered inputs first, then one per op. Floats travel as C99 hex strings ("0x1.8p+1",
// "inf", "-inf", "nan") so every bit, NaN and infinity survives.
//
// A result: {"values": [{"shape", "dtype", "values"} per op], "grads": [per input or null]} or
// {"error": message, "at": op index}, or {"values": ..., "backward_error": message}.
// The gradients are of sum(last * W) with W[i] = ((i·7919) mod 13 − 6)/4, a fixed weight
// pattern both sides compute from the last output's shape.
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <nudge/nudge.h>

using json = nlohmann::json;
using namespace nudge;

namespace {

std::string hex(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

DType dtype_of_name(const std::string& name) {
  if (name == "float32") return kFloat32;
  if (name == "int64") return kInt64;
  if (name == "bool") return kBool;
  return kFloat64;
}

std::string name_of(DType dtype) { return std::string(dtype_name(dtype)); }

Shape shape_of(const json& j) { return j.get<std::vector<std::int64_t>>(); }

json encode(const Tensor& t) {
  json values = json::array();
  if (t.dtype() == kInt64 || t.dtype() == kBool) {
    for (const std::int64_t v : t.to_vector<std::int64_t>()) values.push_back(std::to_string(v));
  } else {
    for (const double v : t.to_vector<double>()) values.push_back(hex(v));
  }
  return {{"shape", t.shape()}, {"dtype", name_of(t.dtype())}, {"values", values}};
}

Tensor weights_like(const Tensor& t) {
  std::vector<double> w(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>((i * 7919) % 13) / 4.0 - 1.5;
  return tensor(w, t.shape(), TensorOptions(t.dtype()).device(t.device()));
}

Reduction reduction_of(const json& op) {
  const std::string r = op.value("reduction", "mean");
  return r == "sum" ? Reduction::Sum : r == "none" ? Reduction::None : Reduction::Mean;
}

using OpFn = std::function<Tensor(const json& op, const std::vector<Tensor>& a)>;

/// Every op the generator may use, by the name difftest.py gives it.
const std::map<std::string, OpFn>& ops() {
  static const std::map<std::string, OpFn> table = {
      {"neg", [](const json&, const auto& a) { return neg(a[0]); }},
      {"exp", [](const json&, const auto& a) { return exp(a[0]); }},
      {"log", [](const json&, const auto& a) { return log(a[0]); }},
      {"log1p", [](const json&, const auto& a) { return log1p(a[0]); }},
      {"expm1", [](const json&, const auto& a) { return expm1(a[0]); }},
      {"sqrt", [](const json&, const auto& a) { return sqrt(a[0]); }},
      {"abs", [](const json&, const auto& a) { return abs(a[0]); }},
      {"sign", [](const json&, const auto& a) { return sign(a[0]); }},
      {"sigmoid", [](const json&, const auto& a) { return sigmoid(a[0]); }},
      {"tanh", [](const json&, const auto& a) { return tanh(a[0]); }},
      {"sin", [](const json&, const auto& a) { return sin(a[0]); }},
      {"cos", [](const json&, const auto& a) { return cos(a[0]); }},
      {"relu", [](const json&, const auto& a) { return relu(a[0]); }},
      {"gelu", [](const json&, const auto& a) { return gelu(a[0]); }},
      {"gelu_tanh", [](const json&, const auto& a) { return gelu(a[0], "tanh"); }},
      {"silu", [](const json&, const auto& a) { return silu(a[0]); }},
      {"leaky_relu", [](const json& o, const auto& a) { return leaky_relu(a[0], o["slope"].get<double>()); }},
      {"softplus", [](const json& o, const auto& a) {
         return softplus(a[0], o["beta"].get<double>(), o["threshold"].get<double>());
       }},
      {"elu", [](const json& o, const auto& a) { return elu(a[0], o["alpha"].get<double>()); }},
      {"pow", [](const json& o, const auto& a) { return pow(a[0], o["exponent"].get<double>()); }},
      {"add", [](const json&, const auto& a) { return add(a[0], a[1]); }},
      {"sub", [](const json&, const auto& a) { return sub(a[0], a[1]); }},
      {"mul", [](const json&, const auto& a) { return mul(a[0], a[1]); }},
      {"div", [](const json&, const auto& a) { return div(a[0], a[1]); }},
      {"add_scalar", [](const json& o, const auto& a) { return add(a[0], o["scalar"].get<double>()); }},
      {"mul_scalar", [](const json& o, const auto& a) { return mul(a[0], o["scalar"].get<double>()); }},
      {"rsub_scalar", [](const json& o, const auto& a) { return sub(o["scalar"].get<double>(), a[0]); }},
      {"rdiv_scalar", [](const json& o, const auto& a) { return div(o["scalar"].get<double>(), a[0]); }},
      {"maximum", [](const json&, const auto& a) { return maximum(a[0], a[1]); }},
      {"minimum", [](const json&, const auto& a) { return minimum(a[0], a[1]); }},
      {"eq", [](const json&, const auto& a) { return eq(a[0], a[1]); }},
      {"lt", [](const json&, const auto& a) { return lt(a[0], a[1]); }},
      {"gt", [](const json&, const auto& a) { return gt(a[0], a[1]); }},
      {"ne", [](const json&, const auto& a) { return ne(a[0], a[1]); }},
      {"le", [](const json&, const auto& a) { return le(a[0], a[1]); }},
      {"ge", [](const json&, const auto& a) { return ge(a[0], a[1]); }},
      {"logical_and", [](const json&, const auto& a) { return logical_and(a[0], a[1]); }},
      {"logical_or", [](const json&, const auto& a) { return logical_or(a[0], a[1]); }},
      {"logical_xor", [](const json&, const auto& a) { return logical_xor(a[0], a[1]); }},
      {"logical_not", [](const json&, const auto& a) { return logical_not(a[0]); }},
      {"isnan", [](const json&, const auto& a) { return isnan(a[0]); }},
      {"any", [](const json&, const auto& a) { return any(a[0]); }},
      {"all", [](const json&, const auto& a) { return all(a[0]); }},
      {"any_dim", [](const json& o, const auto& a) { return any(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>()); }},
      {"all_dim", [](const json& o, const auto& a) { return all(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>()); }},
      {"where", [](const json&, const auto& a) { return where(a[0], a[1], a[2]); }},
      {"masked_fill", [](const json& o, const auto& a) { return masked_fill(a[1], a[0], o["scalar"].get<double>()); }},
      {"to_float64", [](const json&, const auto& a) { return a[0].to(kFloat64); }},
      {"clamp_min", [](const json& o, const auto& a) { return clamp_min(a[0], o["scalar"].get<double>()); }},
      {"sum", [](const json&, const auto& a) { return sum(a[0]); }},
      {"sum_dim", [](const json& o, const auto& a) { return sum(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>()); }},
      {"mean", [](const json&, const auto& a) { return mean(a[0]); }},
      {"mean_dim", [](const json& o, const auto& a) { return mean(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>()); }},
      {"max", [](const json&, const auto& a) { return max(a[0]); }},
      {"max_dim", [](const json& o, const auto& a) { return std::get<0>(max(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>())); }},
      {"max_dim_indices", [](const json& o, const auto& a) { return std::get<1>(max(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>())); }},
      {"argmax", [](const json&, const auto& a) { return argmax(a[0]); }},
      {"argmax_dim", [](const json& o, const auto& a) { return argmax(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>()); }},
      {"min", [](const json&, const auto& a) { return min(a[0]); }},
      {"min_dim", [](const json& o, const auto& a) { return std::get<0>(min(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>())); }},
      {"argmin_dim", [](const json& o, const auto& a) { return argmin(a[0], o["dim"].get<std::int64_t>(), o["keepdim"].get<bool>()); }},
      {"var", [](const json& o, const auto& a) { return var(a[0], std::nullopt, o["unbiased"].get<bool>()); }},
      {"std", [](const json& o, const auto& a) { return nudge::std(a[0], std::nullopt, o["unbiased"].get<bool>()); }},
      {"var_dim", [](const json& o, const auto& a) { return var(a[0], o["dim"].get<std::int64_t>(), o["unbiased"].get<bool>(), o["keepdim"].get<bool>()); }},
      {"std_dim", [](const json& o, const auto& a) { return nudge::std(a[0], o["dim"].get<std::int64_t>(), o["unbiased"].get<bool>(), o["keepdim"].get<bool>()); }},
      {"norm", [](const json& o, const auto& a) { return norm(a[0], o["p"].is_string() ? INFINITY : o["p"].get<double>()); }},
      {"clamp", [](const json& o, const auto& a) {
         const auto bound = [&](const char* key) { return o[key].is_null() ? std::optional<Scalar>() : std::optional<Scalar>(o[key].get<double>()); };
         return clamp(a[0], bound("lo"), bound("hi"));
       }},
      {"cat", [](const json& o, const auto& a) { return cat({a[0], a[1]}, o["dim"].get<std::int64_t>()); }},
      {"stack", [](const json& o, const auto& a) { return stack({a[0], a[1]}, o["dim"].get<std::int64_t>()); }},
      {"where_gt", [](const json&, const auto& a) { return where(gt(a[0], 0), a[1], a[2]); }},
      {"masked_fill_gt", [](const json& o, const auto& a) { return masked_fill(a[1], gt(a[0], 0), o["scalar"].get<double>()); }},
      {"index_select", [](const json& o, const auto& a) { return index_select(a[0], o["dim"].get<std::int64_t>(), a[1]); }},
      {"gather", [](const json& o, const auto& a) { return gather(a[0], o["dim"].get<std::int64_t>(), a[1]); }},
      {"split_part", [](const json& o, const auto& a) {
         const std::vector<Tensor> parts = split(a[0], o["size"].get<std::int64_t>(), o["dim"].get<std::int64_t>());
         const std::int64_t part = o["part"].get<std::int64_t>();
         return parts.at(static_cast<std::size_t>(part < 0 ? static_cast<std::int64_t>(parts.size()) + part : part));
       }},
      {"matmul", [](const json&, const auto& a) { return matmul(a[0], a[1]); }},
      {"linear", [](const json&, const auto& a) { return linear(a[0], a[1], a.size() > 2 ? a[2] : Tensor()); }},
      {"softmax", [](const json& o, const auto& a) { return softmax(a[0], o["dim"].get<std::int64_t>()); }},
      {"log_softmax", [](const json& o, const auto& a) { return log_softmax(a[0], o["dim"].get<std::int64_t>()); }},
      {"mse_loss", [](const json& o, const auto& a) { return mse_loss(a[0], a[1], reduction_of(o)); }},
      {"l1_loss", [](const json& o, const auto& a) { return nn::l1_loss(a[0], a[1], reduction_of(o)); }},
      {"bce_with_logits", [](const json& o, const auto& a) { return binary_cross_entropy_with_logits(a[0], a[1], reduction_of(o)); }},
      {"bce", [](const json& o, const auto& a) { return binary_cross_entropy(a[0], a[1], reduction_of(o)); }},
      {"cross_entropy", [](const json& o, const auto& a) {
         return cross_entropy(a[0], a[1], reduction_of(o), o.value("ignore_index", std::int64_t{-100}));
       }},
      {"nll_loss", [](const json& o, const auto& a) {
         return nll_loss(a[0], a[1], {}, o.value("ignore_index", std::int64_t{-100}), reduction_of(o));
       }},
      {"max_pool2d", [](const json& o, const auto& a) {
         return max_pool2d(a[0], o["kernel"].get<std::int64_t>(), Size2(o["stride"].get<std::int64_t>()),
                           o["padding"].get<std::int64_t>(), 1, o["ceil_mode"].get<bool>());
       }},
      {"avg_pool2d", [](const json& o, const auto& a) {
         return avg_pool2d(a[0], o["kernel"].get<std::int64_t>(), Size2(o["stride"].get<std::int64_t>()),
                           o["padding"].get<std::int64_t>(), o["ceil_mode"].get<bool>(), o["count_include_pad"].get<bool>());
       }},
      {"adaptive_avg_pool2d", [](const json& o, const auto& a) {
         return adaptive_avg_pool2d(a[0], {o["size"][0].get<std::int64_t>(), o["size"][1].get<std::int64_t>()});
       }},
      {"conv1d", [](const json& o, const auto& a) {
         return conv1d(a[0], a[1], a.size() > 2 ? a[2] : Tensor(), o["stride"].get<std::int64_t>(),
                       o["padding"].get<std::int64_t>(), o["dilation"].get<std::int64_t>(), o["groups"].get<std::int64_t>());
       }},
      {"pad", [](const json& o, const auto& a) {
         return pad(a[0], o["pads"].get<std::vector<std::int64_t>>(), o["value"].get<double>());
       }},
      {"one_hot", [](const json& o, const auto& a) { return one_hot(a[0], o["classes"].get<std::int64_t>(), kFloat64); }},
      {"view", [](const json& o, const auto& a) { return a[0].view(shape_of(o["shape"])); }},
      {"reshape", [](const json& o, const auto& a) { return a[0].reshape(shape_of(o["shape"])); }},
      {"transpose", [](const json& o, const auto& a) { return a[0].transpose(o["dim0"].get<std::int64_t>(), o["dim1"].get<std::int64_t>()); }},
      {"t", [](const json&, const auto& a) { return a[0].t(); }},
      {"permute", [](const json& o, const auto& a) { return a[0].permute(o["dims"].get<std::vector<std::int64_t>>()); }},
      {"slice", [](const json& o, const auto& a) {
         return a[0].slice(o["dim"].get<std::int64_t>(), o["start"].get<std::int64_t>(), o["end"].get<std::int64_t>(),
                           o["step"].get<std::int64_t>());
       }},
      {"narrow", [](const json& o, const auto& a) {
         return a[0].narrow(o["dim"].get<std::int64_t>(), o["start"].get<std::int64_t>(), o["length"].get<std::int64_t>());
       }},
      {"select", [](const json& o, const auto& a) { return a[0].select(o["dim"].get<std::int64_t>(), o["index"].get<std::int64_t>()); }},
      {"unsqueeze", [](const json& o, const auto& a) { return a[0].unsqueeze(o["dim"].get<std::int64_t>()); }},
      {"squeeze", [](const json&, const auto& a) { return a[0].squeeze(); }},
      {"squeeze_dim", [](const json& o, const auto& a) { return a[0].squeeze(o["dim"].get<std::int64_t>()); }},
      {"expand", [](const json& o, const auto& a) { return a[0].expand(shape_of(o["shape"])); }},
      {"contiguous", [](const json&, const auto& a) { return a[0].contiguous(); }},
      {"clone", [](const json&, const auto& a) { return a[0].clone(); }},
      {"detach", [](const json&, const auto& a) { return a[0].detach(); }},
      // In-place ops act on a fresh copy (a clone with no history), as the generator emits them.
      {"add_", [](const json&, const auto& a) { Tensor c = a[0].detach().clone(); c.add_(a[1]); return c; }},
      {"mul_", [](const json&, const auto& a) { Tensor c = a[0].detach().clone(); c.mul_(a[1]); return c; }},
      {"sub_", [](const json&, const auto& a) { Tensor c = a[0].detach().clone(); c.sub_(a[1]); return c; }},
      {"fill_", [](const json& o, const auto& a) { Tensor c = a[0].detach().clone(); c.fill_(o["scalar"].get<double>()); return c; }},
      {"to_int64", [](const json&, const auto& a) { return a[0].to(kInt64); }},
  };
  return table;
}

json run(const json& program) {
  const Device device(program.value("device", "cpu"));
  std::vector<Tensor> values;
  for (const json& in : program["inputs"]) {
    const DType dtype = dtype_of_name(in.value("dtype", "float64"));
    std::vector<double> v;
    for (const json& x : in["values"]) v.push_back(std::strtod(x.get<std::string>().c_str(), nullptr));
    Tensor t = tensor(v, shape_of(in["shape"]), TensorOptions(dtype).device(device));
    if (in.value("grad", false)) t.requires_grad_();
    values.push_back(t);
  }
  const std::size_t inputs = values.size();
  json out = {{"values", json::array()}};
  std::size_t at = 0;
  try {
    for (const json& op : program["ops"]) {
      std::vector<Tensor> args;
      for (const json& i : op["args"]) args.push_back(values.at(i.get<std::size_t>()));
      const auto it = ops().find(op["op"].get<std::string>());
      if (it == ops().end()) return {{"error", "interpreter: unknown op " + op["op"].get<std::string>()}, {"at", at}};
      values.push_back(it->second(op, args));
      out["values"].push_back(encode(values.back()));
      ++at;
    }
  } catch (const std::exception& e) {
    return {{"error", e.what()}, {"at", at}, {"values", out["values"]}};
  }
  out["grads"] = json::array();
  const Tensor& last = values.back();
  if (values.size() > inputs && last.requires_grad() && is_floating(last.dtype())) {
    try {
      (last * weights_like(last)).sum().backward();
    } catch (const std::exception& e) {
      out["backward_error"] = e.what();
      return out;
    }
  }
  for (std::size_t i = 0; i < inputs; ++i)
    out["grads"].push_back(values[i].grad().defined() ? encode(values[i].grad()) : json());
  return out;
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    json result;
    try {
      result = run(json::parse(line));
    } catch (const std::exception& e) {
      result = {{"error", std::string("interpreter: ") + e.what()}, {"at", -1}};
    }
    std::cout << result.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
  }
}
