#pragma once
// The whole library. graph.hpp, model.hpp and pipeline.hpp come first and directly: they hold the static
// checks, and g++ prints one "In file included from" line per level before a message.
#include "version.hpp"
#include "graph.hpp"
#include "model.hpp"
#include "pipeline.hpp"

#include "dataset.hpp"
#include "csv.hpp"
#include "loss.hpp"
#include "optimizer.hpp"
#include "trainer.hpp"
