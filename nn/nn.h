#pragma once
/// Everything in nudge::nn.
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/module_list.h"
#include "nn/normalization.h"
#include "nn/pooling.h"
#include "nn/sequential.h"
