#pragma once
// The exceptions nnprobe throws. One base, so callers can catch everything nnprobe reports
// with one handler, and one subclass per area, so they can also tell the areas apart.
#include <stdexcept>

namespace nnp {

// Base of every error nnprobe throws on purpose (the engine derives its own from it).
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Bad data or bad use of the data layer: unreadable or malformed files, labels out of
// range, impossible subsets, empty data sets.
class data_error : public error {
public:
    using error::error;
};

}  // namespace nnp
