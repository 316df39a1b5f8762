#pragma once
/// The CPU backend's entry points, installed into core/dispatch.h by register_cpu_kernels().
#include "core/dispatch.h"

namespace nudge::cpu {

void unary(int device_index, const UnaryCall& call);
void binary(int device_index, const BinaryCall& call);
void binary_scalar(int device_index, const BinaryScalarCall& call);
void copy(int device_index, const CopyCall& call);
void fill(int device_index, const FillCall& call);
void reduce(int device_index, const ReduceCall& call);
void matmul(int device_index, const MatmulCall& call);
void bias_activation(int device_index, const BiasActivationCall& call);
void activation_backward(int device_index, const ActivationBackwardCall& call);
void sgd_step(int device_index, const SgdStepCall& call);
void adam_step(int device_index, const AdamStepCall& call);
void loss(int device_index, const LossCall& call);
DeviceRuntime runtime();
/// Applies NUDGE_NUM_THREADS to the BLAS library (once).
void apply_thread_environment();

}  // namespace nudge::cpu
