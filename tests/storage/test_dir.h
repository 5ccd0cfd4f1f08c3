#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace stackhouse::testing {

// A fresh temporary directory, removed with its contents on destruction.
class TestDir {
 public:
  TestDir() {
    std::string pattern = ::testing::TempDir() + "/stackhouse-XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace stackhouse::testing
