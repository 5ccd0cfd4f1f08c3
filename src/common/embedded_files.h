#pragma once

#include <vector>

namespace stackhouse {

// A file compiled into the binary (schema SDL, catalogs), by base name.
struct EmbeddedFile {
  const char* name;
  const char* content;
};

// Every embedded file of the binary, in the order they were listed at build time.
const std::vector<EmbeddedFile>& EmbeddedFiles();

}  // namespace stackhouse
