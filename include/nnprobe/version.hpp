#pragma once
// The library's version; meson.build checks that it matches the project's.
#define NNPROBE_VERSION_MAJOR 0
#define NNPROBE_VERSION_MINOR 2
#define NNPROBE_VERSION_PATCH 0
#define NNPROBE_VERSION_STRING "0.2.0"

namespace nnp {
inline constexpr const char* version = NNPROBE_VERSION_STRING;
}  // namespace nnp
