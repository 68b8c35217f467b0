#pragma once
// The whole library. The headers that hold static checks come first and directly: g++ and
// clang print one "In file included from" line per level before a check's message.
#include "version.hpp"
#include "graph.hpp"
#include "layers/activations.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/attention.hpp"
#include "layers/embedding.hpp"
#include "layers/masked_pooling.hpp"
#include "model.hpp"
#include "optimizer.hpp"
#include "pipeline.hpp"
#include "trainer.hpp"

#include "dataset.hpp"
#include "csv.hpp"
#include "npy.hpp"
#include "token_data.hpp"
#include "loss.hpp"
