// Replays every fuzz regression input (tests/fuzz/regressions/<target>/) and every committed
// seed (tests/fuzz/corpus/<target>/) through the libFuzzer harnesses of fuzz/targets.h, so a
// crash once found stays fixed in the ordinary native, WASM (NODERAWFS) and ASan test runs.
// A harness contract failure is recorded (not aborted on) and reported with the file's path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "../../fuzz/targets.h"

namespace {

struct fuzz_target {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};

const fuzz_target k_targets[] = {
    {"index", fuzz_index},   {"catalog", fuzz_catalog}, {"manifest", fuzz_manifest},
    {"image", fuzz_image},   {"detect", fuzz_detect},   {"track", fuzz_track},
};

std::vector<std::string>& failures() {
  static std::vector<std::string> f;
  return f;
}

void record_failure(const char* condition, const char* file, int line) {
  failures().push_back(std::string(condition) + " (" + file + ":" + std::to_string(line) + ")");
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Names in a directory (no "." entries, no hidden files such as .gitkeep), sorted.
std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool read_file(const std::string& path, std::vector<uint8_t>& out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  out.clear();
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

// Runs every regular file of `dir` through `t`; returns how many were run.
size_t replay_dir(const fuzz_target& t, const std::string& dir) {
  size_t count = 0;
  for (const std::string& name : list_dir(dir)) {
    const std::string path = dir + "/" + name;
    if (is_dir(path)) continue;
    std::vector<uint8_t> bytes;
    INFO("input " << path);
    REQUIRE(read_file(path, bytes));
    failures().clear();
    t.run(bytes.data(), bytes.size());
    for (const std::string& f : failures()) FAIL_CHECK("fuzz_" << t.name << " contract violated: " << f);
    ++count;
  }
  return count;
}

struct handler_scope {
  handler_scope() { sf_fuzz::set_failure_handler(record_failure); }
  ~handler_scope() { sf_fuzz::set_failure_handler(nullptr); }
};

}  // namespace

TEST_CASE("fuzz regression inputs replay cleanly", "[fuzz]") {
  handler_scope scope;
  const std::string root = std::string(SF_TEST_DIR) + "/fuzz/regressions";
  // Every subdirectory must name a target (a typo would silently skip its inputs).
  for (const std::string& name : list_dir(root)) {
    if (!is_dir(root + "/" + name)) continue;
    INFO("tests/fuzz/regressions/" << name);
    CHECK(std::any_of(std::begin(k_targets), std::end(k_targets),
                      [&](const fuzz_target& t) { return name == t.name; }));
  }
  for (const fuzz_target& t : k_targets) replay_dir(t, root + "/" + t.name);
}

TEST_CASE("fuzz seed corpora replay cleanly", "[fuzz]") {
  handler_scope scope;
  const std::string root = std::string(SF_TEST_DIR) + "/fuzz/corpus";
  for (const fuzz_target& t : k_targets) {
    INFO("tests/fuzz/corpus/" << t.name);
    CHECK(replay_dir(t, root + "/" + t.name) > 0);  // the seeds are committed: none found is a path bug
  }
}
