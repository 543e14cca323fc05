#include "bench/bench_support.h"

#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rally::bench {
namespace {

// The value after the colon of the first line starting with `key` ("model name\t: Intel ..."), as in
// /proc/cpuinfo and /proc/meminfo.
std::string first_line_of(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key)) {
      const std::size_t colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "unknown";
}

}  // namespace

// ---- Options

OptionArgument split_option(const std::string& arg, std::string_view usage) {
  if (arg == "--help" || arg == "-h") {
    std::cout << usage;
    std::exit(0);
  }
  const std::size_t equals = arg.find('=');
  if (!arg.starts_with("--") || equals == std::string::npos) {
    throw std::invalid_argument("expected --key=value, got \"" + arg + "\"");
  }
  return {arg.substr(0, equals), arg.substr(equals + 1)};
}

int parse_int(const std::string& text, const std::string& key, int min, int max) {
  // std::stoi, so leading blanks and a '+' pass: "--concurrency=1, 50" has always worked.
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || value < min || value > max) {
    throw std::invalid_argument(key + ": expected an integer " + std::to_string(min) + "-" +
                                std::to_string(max) + ", got \"" + text + "\"");
  }
  return value;
}

WatchedProcess parse_watched(const std::string& value, const std::string& key, bool tree) {
  const std::size_t split = value.rfind('=');
  if (split == std::string::npos || split == 0) throw std::invalid_argument(key + ": expected NAME=PID");
  return {value.substr(0, split), parse_int(value.substr(split + 1), key, 1, 1 << 30), tree};
}

// ---- The machine, from /proc

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<long long> process_stat_fields(const std::string& pid) {
  const std::string stat = read_file("/proc/" + pid + "/stat");
  // The command, in parentheses, may hold spaces and parentheses itself: the fields start after the last.
  const std::size_t paren = stat.rfind(')');
  std::vector<long long> fields;
  if (paren == std::string::npos || paren + 2 > stat.size()) return fields;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  while (in >> field) {
    long long value = 0;
    std::from_chars(field.data(), field.data() + field.size(), value);
    fields.push_back(value);
  }
  return fields;
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string machine_description() {
  utsname name{};
  uname(&name);
  const std::string cpu = first_line_of(read_file("/proc/cpuinfo"), "model name");
  const std::string memory_kib = first_line_of(read_file("/proc/meminfo"), "MemTotal");
  const double memory_gib = std::strtod(memory_kib.c_str(), nullptr) / (1024.0 * 1024.0);
  return std::to_string(std::thread::hardware_concurrency()) + " CPUs (" + cpu + "), " +
         fixed(memory_gib, 1) + " GiB RAM, " + name.sysname + " " + name.release;
}

std::string load_average() {
  std::istringstream in(read_file("/proc/loadavg"));
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

// ---- Figures and report text

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::min(values.size(), std::max<std::size_t>(rank, 1)) - 1];
}

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (const double value : values) sum += value;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string signed_fixed(double value, int decimals) {
  return (value >= 0 ? "+" : "") + fixed(value, decimals);
}

int total_count(const std::map<std::string, int>& counts) {
  int sum = 0;
  for (const auto& [kind, count] : counts) sum += count;
  return sum;
}

std::string errors_cell(const std::vector<std::pair<std::string, int>>& counts) {
  int total = 0;
  std::string kinds;
  for (const auto& [kind, count] : counts) {
    total += count;
    kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(count);
  }
  return total == 0 ? "0" : std::to_string(total) + " (" + kinds + ")";
}

std::string errors_cell(const std::map<std::string, int>& counts) {
  return errors_cell(std::vector<std::pair<std::string, int>>(counts.begin(), counts.end()));
}

// ---- Running

bool poll_until(std::chrono::steady_clock::time_point deadline, const std::function<bool()>& ready) {
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return true;
}

bool publish_report(const std::string& report, const std::string& output_file, std::string_view program) {
  std::cout << report << std::flush;
  if (output_file.empty()) return true;
  std::ofstream file(output_file);
  file << report;
  if (!file) {
    std::cerr << program << ": cannot write " << output_file << "\n";
    return false;
  }
  return true;
}

int bench_main(std::string_view program, std::string_view usage, const std::function<void()>& parse_options,
               const std::function<int()>& run) {
  try {
    parse_options();
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n\n" << usage;
    return 2;
  }
  try {
    return run();
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace rally::bench
