#pragma once
/// Where a tensor lives: the CPU or one CUDA device.
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace nudge {

enum class DeviceType : std::uint8_t { CPU = 0, CUDA = 1 };
inline constexpr int kNumDeviceTypes = 2;

inline constexpr DeviceType kCPU = DeviceType::CPU;
inline constexpr DeviceType kCUDA = DeviceType::CUDA;

class Device {
 public:
  /// `Device(kCUDA)` is cuda:0; the index of a CPU device is always 0.
  constexpr Device(DeviceType type = DeviceType::CPU, int index = 0)  // NOLINT: implicit like PyTorch
      : type_(type), index_(type == DeviceType::CPU ? 0 : index) {}
  /// Parses "cpu", "cuda" or "cuda:N"; throws nudge::Error on anything else.
  explicit Device(std::string_view spec);
  Device(const char* spec) : Device(std::string_view(spec)) {}  // NOLINT: "cuda:1" reads naturally

  static constexpr Device cpu() { return Device(DeviceType::CPU); }
  static constexpr Device cuda(int index = 0) { return Device(DeviceType::CUDA, index); }

  constexpr DeviceType type() const { return type_; }
  constexpr int index() const { return index_; }
  constexpr bool is_cpu() const { return type_ == DeviceType::CPU; }
  constexpr bool is_cuda() const { return type_ == DeviceType::CUDA; }
  std::string str() const;

  friend constexpr bool operator==(Device a, Device b) { return a.type_ == b.type_ && a.index_ == b.index_; }

 private:
  DeviceType type_;
  int index_;
};

inline std::ostream& operator<<(std::ostream& out, Device d) { return out << d.str(); }

}  // namespace nudge
