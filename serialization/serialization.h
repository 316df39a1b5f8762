#pragma once
/// Data out and back: safetensors files and checkpoints of modules and optimizers.
#include "serialization/checkpoint.h"
#include "serialization/safetensors.h"
