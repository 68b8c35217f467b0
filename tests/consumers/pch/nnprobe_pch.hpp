// The test program's precompiled header: the two headers every nnprobe test file includes,
// parsed once per build instead of once per translation unit.
#include <nnprobe/probes.hpp>
#include <nnprobe/probes/doctest.hpp>
