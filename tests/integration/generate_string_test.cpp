// Issue 19 items 1 and 2, the seed's Generate String: a Universal Device Template holds an
// Authentication String or generates one per phone, for phones added by `phones import` and
// `job submit --csv` (the strings go once to a 0600 file); `capf phone set NAME
// --generate-string` prints a new string once. The strings never show anywhere else, and the
// simulated phones enroll with them.
#include <sys/stat.h>

#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "job_fleet.hpp"

using namespace capf::it;

namespace {

/// "Device Name,Authentication String" rows of a strings file.
std::map<std::string, std::string> read_strings(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "Device Name,Authentication String");
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    if (comma != std::string::npos) out[line.substr(0, comma)] = line.substr(comma + 1);
  }
  return out;
}

int mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

/// A CSV for the simulator: phones configured By Authentication String with these strings.
std::string sim_csv(const Fleet& f, const std::string& name, const std::map<std::string, std::string>& strings) {
  std::string rows = "Device Name,Authentication Mode,Authentication String\n";
  for (const auto& [device, s] : strings) rows += device + ",By Authentication String," + s + "\n";
  return f.write_csv(name, rows);
}

/// Every place an administrator or a log could see a string.
std::string everything_shown(const Fleet& f) {
  std::string all = f.daemon->log();
  for (const auto& args : std::vector<std::vector<std::string>>{{"phones", "list", "--json"},
                                                                {"audit", "list", "--json"},
                                                                {"template", "list", "--json"},
                                                                {"job", "list", "--json"}})
    all += cli([&] {
             auto a = args;
             a.insert(a.end(), {"--data-dir", f.data});
             return a;
           }()).out;
  return all;
}

}  // namespace

TEST(GenerateString, TemplatesGenerateOnePerPhoneOrHoldOneAndThePhonesEnrollWithThem) {
  Fleet f;
  // A template that generates a string per phone (BAT's "unique string for each device").
  auto t = cli({"template", "create", "per-phone", "--where", "device_pool = DP-HQ", "--auth-mode", "string",
                "--string-policy", "unique", "--operation", "install", "--data-dir", f.data});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  // A template that holds one string of its own, made by Generate String, shown this once.
  t = cli({"template", "create", "lab", "--where", "device_pool = DP-LAB", "--auth-mode", "string", "--generate-string",
           "--operation", "install", "--data-dir", f.data});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::string marker = "never again; configure it on its phones): ";
  const auto at = t.out.find(marker);
  ASSERT_NE(at, std::string::npos) << t.out;
  const std::string lab_string = t.out.substr(at + marker.size(), t.out.find('\n', at) - at - marker.size());
  ASSERT_EQ(lab_string.size(), 8u) << t.out;
  auto shown = nlohmann::json::parse(cli({"template", "show", "lab", "--json", "--data-dir", f.data}).out);
  EXPECT_EQ(shown["auth_string_set"], true);
  EXPECT_EQ(shown.dump().find(lab_string), std::string::npos);
  // By Authentication String with nowhere for the string to come from is refused up front.
  auto bad = cli({"template", "create", "nostring", "--where", "all", "--auth-mode", "string", "--data-dir", f.data});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--generate-string"), std::string::npos) << bad.err;

  // Import: two new phones in DP-HQ, one in DP-LAB; their rows say nothing about strings.
  const auto csv = f.write_csv("new.csv", "Device Name,Device Pool\nSEP00000019A001,DP-HQ\nSEP00000019A002,DP-HQ\n"
                                          "SEP00000019A003,DP-LAB\n");
  const auto strings_path = f.dir / "import-strings.csv";
  auto r = cli({"phones", "import", csv, "--strings-out", strings_path, "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(strings_path + " (mode 0600)"), std::string::npos) << r.out;
  EXPECT_EQ(mode_of(strings_path), 0600);
  auto generated = read_strings(strings_path);
  ASSERT_EQ(generated.size(), 2u) << "only the per-phone template generates";
  EXPECT_NE(generated["SEP00000019A001"], generated["SEP00000019A002"]);
  for (const auto& [device, s] : generated) {
    EXPECT_EQ(s.size(), 8u);
    EXPECT_EQ(r.out.find(s), std::string::npos) << "printed";
    auto p = f.phone(device);
    EXPECT_EQ(p["auth_mode"], "By Authentication String");
    EXPECT_EQ(p["auth_string_set"], true);
    EXPECT_EQ(p["status"], "pending") << p.dump();
  }

  // `job submit --csv` adds a phone the same way: its string is in the job's strings file.
  const auto job_csv = f.write_csv("job.csv", "Device Name,Device Pool\nSEP00000019A004,DP-HQ\n");
  const auto job_strings = f.dir / "job-strings.csv";
  r = cli({"job", "submit", "--csv", job_csv, "--operation", "install", "--hold", "--strings-out", job_strings,
           "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(mode_of(job_strings), 0600);
  auto from_job = read_strings(job_strings);
  ASSERT_EQ(from_job.size(), 1u);
  EXPECT_EQ(from_job.begin()->first, "SEP00000019A004");
  EXPECT_EQ(r.out.find(from_job.begin()->second), std::string::npos);
  ASSERT_EQ(cli({"job", "cancel", submitted_id(r), "--data-dir", f.data}).exit_code, 0);

  // The phones the per-phone template filled enroll with their own strings, the lab phone with
  // the template's; a phone with another phone's string is refused.
  generated["SEP00000019A003"] = lab_string;
  auto s = f.sim_csv(sim_csv(f, "sim.csv", generated));
  EXPECT_EQ(result_of(s, "SEP00000019A001"), "installed") << s.dump(2);
  EXPECT_EQ(result_of(s, "SEP00000019A002"), "installed") << s.dump(2);
  EXPECT_EQ(result_of(s, "SEP00000019A003"), "installed") << s.dump(2);
  std::map<std::string, std::string> swapped{{"SEP00000019A004", generated["SEP00000019A001"]}};
  ASSERT_EQ(cli({"phone", "set", "SEP00000019A004", "--operation", "install", "--data-dir", f.data}).exit_code, 0);
  EXPECT_EQ(result_of(f.sim_csv(sim_csv(f, "wrong.csv", swapped)), "SEP00000019A004"), "refused");

  const std::string all = everything_shown(f);
  for (const auto& [device, str] : generated) EXPECT_EQ(all.find(str), std::string::npos) << device;
  EXPECT_EQ(all.find(from_job.begin()->second), std::string::npos);
}

TEST(GenerateString, PhoneSetGenerateStringPrintsItOnceAndThePhoneEnrollsWithIt) {
  Fleet f;
  const auto csv = f.write_csv("p.csv", std::string(kCsvHeader) + "SEP00000019B001,DP-HQ,,By Null String,,2048,RSA Only,\n");
  ASSERT_EQ(f.import(csv).exit_code, 0);
  // Generate String needs By Authentication String.
  auto r = cli({"phone", "set", "SEP00000019B001", "--generate-string", "--data-dir", f.data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--generate-string needs Authentication Mode By Authentication String"), std::string::npos) << r.err;
  EXPECT_EQ(cli({"phone", "set", "SEP00000019B001", "--generate-string", "--auth-string", "1234", "--data-dir", f.data})
                .exit_code, 1);

  r = cli({"phone", "set", "SEP00000019B001", "--operation", "install", "--auth-mode", "string", "--generate-string",
           "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string marker = "never again; enter it on the phone): ";
  const auto at = r.out.find(marker);
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string generated = r.out.substr(at + marker.size(), 8);
  EXPECT_EQ(r.out.find(generated, at + marker.size() + 8), std::string::npos) << "printed twice";
  // Never again: not in `phone show`, listings, the audit trail or the daemon's log.
  auto show = cli({"phone", "show", "SEP00000019B001", "--data-dir", f.data});
  EXPECT_EQ(show.out.find(generated), std::string::npos);
  EXPECT_NE(show.out.find("auth_string_set: true"), std::string::npos) << show.out;
  EXPECT_EQ(everything_shown(f).find(generated), std::string::npos);
  auto audit = cli({"audit", "list", "--action", "phone.set", "--data-dir", f.data});
  EXPECT_NE(audit.out.find("generate_string"), std::string::npos) << audit.out;

  // The phone, its user having typed the string, enrolls; a second Generate String replaces it.
  auto s = f.sim_csv(sim_csv(f, "sim.csv", {{"SEP00000019B001", generated}}));
  EXPECT_EQ(result_of(s, "SEP00000019B001"), "installed") << s.dump(2);
  r = cli({"phone", "set", "SEP00000019B001", "--operation", "install", "--generate-string", "--json", "--data-dir", f.data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string second = nlohmann::json::parse(r.out)["generated_auth_string"];
  EXPECT_NE(second, generated);
  EXPECT_EQ(result_of(f.sim_csv(sim_csv(f, "old.csv", {{"SEP00000019B001", generated}})), "SEP00000019B001"), "refused");
  EXPECT_EQ(result_of(f.sim_csv(sim_csv(f, "new.csv", {{"SEP00000019B001", second}})), "SEP00000019B001"), "installed");
}
