// What rally-llm-stream-bench and rally-scoring-bench share apart from the network: command-line options,
// readings of the machine from /proc, the figures and text of their Markdown reports, and their main().
// No Boost here; endpoints and connections are in bench/bench_tcp.h.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rally::bench {

// ---- Options: every option is --key=value

struct OptionArgument {
  std::string key;  // "--duration"
  std::string value;
};

// Splits "--key=value"; throws std::invalid_argument for anything else. -h and --help print `usage` and
// exit 0.
OptionArgument split_option(const std::string& arg, std::string_view usage);

// A decimal integer in [min, max]; throws std::invalid_argument naming `key`.
int parse_int(const std::string& text, const std::string& key, int min, int max);

// A process whose CPU time (and memory) the report shows: --watch=NAME=PID.
struct WatchedProcess {
  std::string name;
  int pid = 0;
  bool tree = false;  // with its live children (PostgreSQL's backends)
};

// NAME=PID; throws std::invalid_argument naming `key`.
WatchedProcess parse_watched(const std::string& value, const std::string& key, bool tree);

// ---- The machine, from /proc

// The whole file; "" when it cannot be read (a process that has gone).
std::string read_file(const std::string& path);

// The fields of /proc/PID/stat after the command: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime,
// [14] cstime (clock ticks). Empty when the process is gone.
std::vector<long long> process_stat_fields(const std::string& pid);

// User and system CPU time of this process, in seconds.
double own_cpu_seconds();

// "2 CPUs (model name), 7.8 GiB RAM, Linux 6.1.0": what the report's numbers were measured on.
std::string machine_description();

// The 1, 5 and 15 minute load averages: "0.52 0.58 0.59".
std::string load_average();

// Now, to the minute: "2024-05-01 12:34 UTC".
std::string utc_now();

// ---- Figures and report text

// Nearest-rank percentile of unsorted values; 0 for none.
double percentile(std::vector<double> values, double p);

// The arithmetic mean; 0 for none.
double mean(const std::vector<double>& values);

// `value` with `decimals` digits after the point.
std::string fixed(double value, int decimals);

// The same with a sign on every value, for differences: "+0.12", "-3.40".
std::string signed_fixed(double value, int decimals);

// The sum of the counts of every kind of error.
int total_count(const std::map<std::string, int>& counts);

// A report's error column: "0", or the total and each kind in the given order: "3 (HTTP 502 2, timeout 1)".
std::string errors_cell(const std::vector<std::pair<std::string, int>>& counts);
std::string errors_cell(const std::map<std::string, int>& counts);

// ---- Running

// Calls `ready` until it returns true, every 250 ms; false when it has not by `deadline` (it is always
// called at least once).
bool poll_until(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& ready);

// Prints the report to stdout and, unless `output_file` is empty, writes it there too; false (with a message
// under `program`'s name) when the file cannot be written.
bool publish_report(const std::string& report, const std::string& output_file, std::string_view program);

// A bench's main(): exit status 2 with the message and `usage` when `parse_options` throws, 1 with the
// message when `run` throws, else what `run` returns.
int bench_main(std::string_view program, std::string_view usage, const std::function<void()>& parse_options,
               const std::function<int()>& run);

}  // namespace rally::bench
