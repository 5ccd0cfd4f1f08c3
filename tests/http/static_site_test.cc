#include "http/static_site.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::http {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StaticSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/stackhouse-site-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    fs::create_directories(base_ / "dist/static/js");
    Write("dist/index.html", "<html>booster</html>");
    Write("dist/static/js/app-1a2b.js", "console.log(1)");
    Write("dist/.env", "SECRET=1");
    Write("secret.txt", "outside");
    fs::create_symlink(base_ / "secret.txt", base_ / "dist/link.txt");
    auto site = StaticSite::Open((base_ / "dist").string());
    ASSERT_TRUE(site.ok()) << site.status();
    site_ = std::move(*site);
  }
  void TearDown() override { fs::remove_all(base_); }

  void Write(const std::string& name, const std::string& content) {
    std::ofstream(base_ / name) << content;
  }

  HttpResponse Get(const std::string& path, const std::string& method = "GET") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.header = [](const std::string&) { return std::string(); };
    return site_->Serve(request);
  }

  fs::path base_;
  std::unique_ptr<StaticSite> site_;
};

TEST_F(StaticSiteTest, ServesFilesWithTheirTypeAndCachesHashedAssets) {
  HttpResponse js = Get("/static/js/app-1a2b.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  ASSERT_EQ(js.headers.size(), 1u);
  EXPECT_THAT(js.headers[0].second, HasSubstr("immutable"));

  HttpResponse index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>booster</html>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.headers[0].second, "no-cache");
}

TEST_F(StaticSiteTest, ApplicationRoutesAnswerIndexAndMissingFilesAre404) {
  // Route segments hold dots: service ids, dashboard names.
  for (const char* path : {"/dashboard/GENERAL/Service/YWJj.1/General-Service",
                           "/dashboard/MESH/Process/c3Zj.1/c3Zj.1_cG9k/abc/Mesh.Process"}) {
    HttpResponse route = Get(path);
    EXPECT_EQ(route.status, 200) << path;
    EXPECT_EQ(route.body, "<html>booster</html>") << path;
  }
  EXPECT_EQ(Get("/favicon.ico").status, 404);
  EXPECT_EQ(Get("/static/js/missing.js").status, 404);
  EXPECT_EQ(Get("/", "POST").status, 405);
  EXPECT_EQ(Get("/static/js/app-1a2b.js", "HEAD").status, 200);
}

TEST_F(StaticSiteTest, NothingOutsideTheDirectoryOrHiddenIsServed) {
  for (const char* path : {"/../secret.txt", "/static/../../secret.txt", "/.env", "/link.txt",
                           "/static/js/..%2f..%2f..%2fsecret.txt"}) {
    HttpResponse r = Get(path);
    EXPECT_NE(r.body, "outside") << path;
    EXPECT_NE(r.body, "SECRET=1") << path;
    EXPECT_EQ(r.status, 404) << path;
  }
}

TEST(StaticSiteOpenTest, ADirectoryWithoutIndexIsRefusedNamingIt) {
  auto missing = StaticSite::Open("/nonexistent/booster");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/booster"));
  auto no_index = StaticSite::Open(::testing::TempDir());
  EXPECT_THAT(no_index.status().message(), HasSubstr("has no index.html"));
}

}  // namespace
}  // namespace stackhouse::http
