#pragma once
/// Data in: datasets and loaders, CSV and IDX readers.
#include "data/csv.h"
#include "data/dataloader.h"
#include "data/dataset.h"
#include "data/idx.h"
