#pragma once
/// Watching training: progress bar, metrics log (CSV), SVG plots, confusion matrix, divergence check.
#include "monitor/confusion_matrix.h"
#include "monitor/divergence.h"
#include "monitor/metrics_log.h"
#include "monitor/progress.h"
#include "monitor/svg_plot.h"
