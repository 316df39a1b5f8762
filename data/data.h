#pragma once
/// Data in and out: datasets and loaders, CSV and IDX readers, safetensors checkpoints.
#include "data/checkpoint.h"
#include "data/csv.h"
#include "data/dataloader.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/safetensors.h"
