#pragma once
// The probes: recorders, the mini-run driver, the checks and their verdicts.
#include <nnprobe/nnprobe.hpp>
#include <nnprobe/pipeline.hpp>

#include "probes/suite.hpp"
