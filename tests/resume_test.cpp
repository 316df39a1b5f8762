// Crash-safe, exact resume (issue "Nothing bad gets in", item 4): tests/resume/resume_worker
// trains with a checkpoint after every step; stopping it anywhere, or killing it with SIGKILL at
// random moments, and resuming in a new process must end with the uninterrupted run's weights.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "temp_dir.h"
#include "test_util.h"

extern char** environ;

namespace nudge::testing {
namespace {

struct WorkerRun {
  int status;  // exit code, or 128 + signal
  std::string output;
};

/// Starts resume_worker with `args`, its output going to `log`; returns its pid.
pid_t start_worker(const std::vector<std::string>& args, const std::string& log) {
  const std::string binary = example_bin_dir() + "/resume_worker";
  std::vector<std::string> all{binary};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(error, 0) << "cannot start " << binary;
  return pid;
}

WorkerRun wait_worker(pid_t pid, const std::string& log) {
  int raw = 0;
  waitpid(pid, &raw, 0);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw), text.str()};
}

WorkerRun run_worker(const std::vector<std::string>& args, const std::string& log) {
  return wait_worker(start_worker(args, log), log);
}

/// The "final: <hash>" line, or "" when the run did not finish.
std::string final_hash(const WorkerRun& run) {
  const auto at = run.output.find("final: ");
  return at == std::string::npos ? "" : run.output.substr(at + 7, 16);
}

class ResumeTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string reference(const TempDir& dir) {
    const WorkerRun run =
        run_worker({"--config", GetParam(), "--checkpoint", dir / "reference"}, dir / "reference.log");
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(run.output.find("resumed"), std::string::npos);
    return final_hash(run);
  }
};

TEST_P(ResumeTest, StoppingAtAnyStepAndResumingIsBitIdentical) {
  TempDir dir;
  const std::string expected = reference(dir);
  ASSERT_EQ(expected.size(), 16u);
  // 200 examples in batches of 32: 7 steps an epoch, 28 in all. Steps 7, 14 and 21 stop inside
  // the loop over an epoch's last batch, before the scheduler's step.
  for (int stop = 1; stop < 28; ++stop) {
    const std::string checkpoint = dir / ("stop" + std::to_string(stop));
    const WorkerRun first = run_worker(
        {"--config", GetParam(), "--checkpoint", checkpoint, "--stop-after", std::to_string(stop)}, dir / "first.log");
    ASSERT_EQ(first.status, 3) << first.output;
    const WorkerRun resumed = run_worker({"--config", GetParam(), "--checkpoint", checkpoint}, dir / "resumed.log");
    ASSERT_EQ(resumed.status, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
    EXPECT_NE(resumed.output.find("step " + std::to_string(stop)), std::string::npos) << resumed.output;
    EXPECT_EQ(final_hash(resumed), expected) << "stopped after step " << stop << "\n" << resumed.output;
  }
  // Checkpoints every 5 steps: a stop between two of them loses the steps since the last, and the
  // resumed run redoes them identically.
  const std::string sparse = dir / "sparse";
  ASSERT_EQ(run_worker({"--config", GetParam(), "--checkpoint", sparse, "--save-every", "5", "--stop-after", "13"},
                       dir / "sparse.log")
                .status,
            3);
  const WorkerRun resumed =
      run_worker({"--config", GetParam(), "--checkpoint", sparse, "--save-every", "5"}, dir / "r.log");
  EXPECT_NE(resumed.output.find("step 10"), std::string::npos) << resumed.output;
  EXPECT_EQ(final_hash(resumed), expected);
}

TEST_P(ResumeTest, KilledAtRandomMomentsManyTimesAlwaysResumesToTheSameWeights) {
  TempDir dir;
  const std::string expected = reference(dir);
  const std::string checkpoint = dir / "killed";
  const std::vector<std::string> args{"--config", GetParam(), "--checkpoint", checkpoint, "--step-delay-ms", "2"};
  // Kill times are drawn over the length of a whole run on this machine (startup included: a CUDA
  // build starts slower), so kills land everywhere: before the first checkpoint, inside a save,
  // between the scheduler's step and the epoch's checkpoint.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(run_worker(args, dir / "timing.log").status, 0);
  const auto run_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  std::filesystem::remove(checkpoint);

  std::mt19937 random(20261201);
  std::uniform_int_distribution<std::int64_t> when(0, run_us.count());
  constexpr int kKills = 25;
  int finished_before_the_kill = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    const std::string log = dir / "kill.log";
    const pid_t pid = start_worker(args, log);
    std::this_thread::sleep_for(std::chrono::microseconds(when(random)));
    ::kill(pid, SIGKILL);
    const WorkerRun run = wait_worker(pid, log);
    ASSERT_TRUE(run.status == 0 || run.status == 128 + SIGKILL) << run.output;  // never a corrupt-file error
    if (run.status == 0) {  // it finished first: that result must be right too; start over
      EXPECT_EQ(final_hash(run), expected);
      std::filesystem::remove(checkpoint);
      ++finished_before_the_kill;
    }
  }
  EXPECT_LT(finished_before_the_kill, kKills);
  // After the last kill, the run resumes from whatever the kills left and ends with the same weights.
  const WorkerRun last = run_worker(args, dir / "last.log");
  ASSERT_EQ(last.status, 0) << last.output;
  EXPECT_EQ(final_hash(last), expected) << last.output;
  // No temporary files of killed saves are left behind (the next save removes them).
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".killed.tmp-"), std::string::npos) << entry.path();
}

INSTANTIATE_TEST_SUITE_P(Configs, ResumeTest, ::testing::Values("sgd-step", "adamw-cosine", "adamw-dropout"),
                         [](const auto& info) {
                           const std::string config = info.param;
                           return config == "sgd-step"       ? "SgdStepLR"
                                  : config == "adamw-cosine" ? "AdamWCosine"
                                                             : "AdamWDropout";
                         });

}  // namespace
}  // namespace nudge::testing
