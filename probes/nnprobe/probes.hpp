#pragma once
// The probes: recorders, the mini-run driver, the checks and their verdicts. The headers that
// hold static checks come first and directly (one "In file included from" line per level
// before a check's message).
#include <nnprobe/graph.hpp>
#include <nnprobe/layers/activations.hpp>
#include <nnprobe/layers/dense.hpp>
#include <nnprobe/layers/dropout.hpp>
#include <nnprobe/model.hpp>
#include <nnprobe/optimizer.hpp>
#include <nnprobe/pipeline.hpp>
#include <nnprobe/trainer.hpp>
#include <nnprobe/nnprobe.hpp>

#include "probes/after_a_failed_check.hpp"
#include "probes/suite.hpp"
#include "probes/positions_reach_output.hpp"
#include "probes/transforms_keep_layout.hpp"
