#include "storage/pg/throwaway_cluster.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/pg/pg_connection.h"

namespace stackhouse::storage::pg::testing {
namespace {

// The socket's name is .s.PGSQL.<port> inside our own directory, so any port works.
constexpr int kPort = 5432;

// The user the cluster runs as: ourselves, or "nobody" when we are root.
struct RunAs {
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

absl::StatusOr<RunAs> ClusterUser() {
  RunAs user;
  if (geteuid() != 0) return user;
  struct passwd* pw = getpwnam("nobody");
  if (pw == nullptr) {
    return absl::FailedPreconditionError(
        "running as root and there is no user \"nobody\" to run PostgreSQL's initdb as");
  }
  user.drop = true;
  user.uid = pw->pw_uid;
  user.gid = pw->pw_gid;
  return user;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

// Forks `argv` as `user` with stdout and stderr to `log`. `die_with_parent`: the child gets
// SIGQUIT when this thread exits.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const RunAs& user,
                            const std::string& log, bool die_with_parent) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (user.drop &&
        (setgroups(0, nullptr) != 0 || setgid(user.gid) != 0 || setuid(user.uid) != 0)) {
      _exit(126);
    }
    // After the change of credentials, which clears it.
    if (die_with_parent) prctl(PR_SET_PDEATHSIG, SIGQUIT);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

absl::Status Run(const std::vector<std::string>& argv, const RunAs& user, const std::string& log) {
  auto pid = Spawn(argv, user, log, false);
  if (!pid.ok()) return pid.status();
  int status = 0;
  while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(argv[0], " failed (status ", status, "): ", Tail(log)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ThrowawayCluster>> ThrowawayCluster::Start(
    const std::string& bin_dir) {
  const std::string initdb = absl::StrCat(bin_dir, "/initdb");
  const std::string postgres = absl::StrCat(bin_dir, "/postgres");
  if (access(initdb.c_str(), X_OK) != 0 || access(postgres.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL 15 server binaries (initdb, postgres) not found in ", bin_dir,
        ": install Debian's postgresql package (scripts/install-deps.sh --test does)"));
  }
  auto user = ClusterUser();
  if (!user.ok()) return user.status();

  // Under /tmp, which every user can traverse (TMPDIR may not be).
  std::string dir = "/tmp/stackhouse-pg-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  if (user->drop && chown(dir.c_str(), user->uid, user->gid) != 0) {
    std::filesystem::remove_all(dir);
    return absl::InternalError(absl::StrCat("chown ", dir, ": ", std::strerror(errno)));
  }
  const std::string log = dir + "/server.log";
  absl::Status initialized = Run({initdb, "-D", dir + "/data", "-A", "trust", "-U", "postgres",
                                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                                 *user, dir + "/initdb.log");
  if (!initialized.ok()) {
    std::filesystem::remove_all(dir);
    return initialized;
  }
  // A throw-away cluster: no fsync (durability is the server's business, not the tests').
  auto pid = Spawn({postgres, "-D", dir + "/data", "-k", dir, "-p", absl::StrCat(kPort), "-c",
                    "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                    "full_page_writes=off", "-c", "max_connections=200"},
                   *user, log, true);
  if (!pid.ok()) {
    std::filesystem::remove_all(dir);
    return pid.status();
  }
  auto cluster = std::unique_ptr<ThrowawayCluster>(new ThrowawayCluster(dir, *pid));
  // Ready once a connection succeeds; gives up if the postmaster exits or after 60 s.
  const std::string conninfo = cluster->ConnInfo("postgres");
  for (int attempt = 0;; ++attempt) {
    if (Connection::Open(conninfo).ok()) break;
    int status = 0;
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
      cluster->postmaster_ = 0;
      return absl::InternalError(absl::StrCat("PostgreSQL exited at start: ", Tail(log)));
    }
    if (attempt >= 3000) {
      return absl::InternalError(absl::StrCat("PostgreSQL did not come up: ", Tail(log)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cluster;
}

ThrowawayCluster::~ThrowawayCluster() {
  if (postmaster_ > 0) {
    kill(postmaster_, SIGINT);  // fast shutdown
    int status = 0;
    while (waitpid(postmaster_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string ThrowawayCluster::ConnInfo(const std::string& dbname) const {
  return absl::StrCat("host=", dir_, " port=", kPort, " user=postgres dbname=", dbname,
                      " connect_timeout=10");
}

absl::StatusOr<std::string> ThrowawayCluster::CreateDatabase() {
  const std::string name = absl::StrCat("test_", ++databases_);
  auto admin = Connection::Open(ConnInfo("postgres"));
  if (!admin.ok()) return admin.status();
  absl::Status created = (*admin)->ExecScript(absl::StrCat("CREATE DATABASE ", name));
  if (!created.ok()) return created;
  return ConnInfo(name);
}

}  // namespace stackhouse::storage::pg::testing
