#pragma once
/// Everything a nudge program needs: `#include <nudge/nudge.h>`.
#include "core/cuda.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/factory.h"
#include "core/generator.h"
#include "core/ops.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "core/storage.h"
#include "core/tensor.h"
#include "core/tensor_options.h"
