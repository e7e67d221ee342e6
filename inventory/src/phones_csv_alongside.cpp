// The phone CSV parse on a thread of its own, handing chunks of rows to the caller's thread
// through a short queue. Emptied chunk vectors go back to the parser, so a file of any size
// uses a few chunks' worth of rows and their memory is reused rather than freshly faulted in.
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "capf/inventory/phones_csv.hpp"

namespace capf::inventory {

namespace {

/// Chunks parsed but not yet taken: enough to ride over a slow chunk on either side.
constexpr std::size_t kQueueDepth = 4;

struct Channel {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::vector<PhoneRow>> full;
  std::vector<std::vector<PhoneRow>> spare;
  bool parser_done = false;
  bool cancelled = false;
};

}  // namespace

Result<CsvParseResult> parse_phones_csv_alongside(std::string_view content, const std::string& file,
                                                  const CsvOptions& options, std::size_t chunk_rows,
                                                  const RowSink& sink) {
  Channel ch;
  std::optional<Result<CsvParseResult>> parsed;
  std::exception_ptr parser_failure;

  // Called by the parser with a full chunk: queue it and carry on with a spare vector. The
  // parser runs inside libcsv's callbacks, so nothing may throw through here; once the caller
  // has given up, chunks are dropped and the parse runs out on its own.
  const RowSink hand_over = [&ch](std::vector<PhoneRow>& rows) {
    std::unique_lock lock(ch.mutex);
    ch.changed.wait(lock, [&] { return ch.full.size() < kQueueDepth || ch.cancelled; });
    if (ch.cancelled) {
      rows.clear();
      return;
    }
    std::vector<PhoneRow> next;
    if (!ch.spare.empty()) {
      next = std::move(ch.spare.back());
      ch.spare.pop_back();
    }
    ch.full.push_back(std::move(rows));
    rows = std::move(next);
    ch.changed.notify_all();
  };

  std::thread parser([&] {
    try {
      auto r = parse_phones_csv(content, file, options, chunk_rows, hand_over);
      std::lock_guard lock(ch.mutex);
      parsed.emplace(std::move(r));
    } catch (...) {
      std::lock_guard lock(ch.mutex);
      parser_failure = std::current_exception();
    }
    std::lock_guard lock(ch.mutex);
    ch.parser_done = true;
    ch.changed.notify_all();
  });

  try {
    for (;;) {
      std::vector<PhoneRow> rows;
      {
        std::unique_lock lock(ch.mutex);
        ch.changed.wait(lock, [&] { return !ch.full.empty() || ch.parser_done; });
        if (ch.full.empty()) break;  // the parser is done and every chunk was taken
        rows = std::move(ch.full.front());
        ch.full.pop_front();
        ch.changed.notify_all();
      }
      sink(rows);
      rows.clear();
      std::lock_guard lock(ch.mutex);
      ch.spare.push_back(std::move(rows));
    }
  } catch (...) {
    {
      std::lock_guard lock(ch.mutex);
      ch.cancelled = true;
      ch.full.clear();
      ch.changed.notify_all();
    }
    parser.join();
    throw;
  }
  parser.join();
  if (parser_failure) std::rethrow_exception(parser_failure);
  return std::move(*parsed);
}

}  // namespace capf::inventory
