// Giving the allocator's free memory back to the system. A daemon that serves 40,000 phones a
// night frees most of what each session allocated, but glibc keeps it in per-thread arenas, in
// pieces between live blocks: without a trim the resident size only ever grows.
#pragma once

#include <cstddef>

namespace capf::util {

/// Sets the allocator for a long-running daemon (glibc's mallopt): blocks of 256 KiB and more
/// are mapped on their own and unmapped when freed, and the threshold stays there. Without it
/// glibc raises its threshold to the largest block ever freed (a 40,000-device job submission
/// frees tens of MB at once), after which every large block lands inside the heap and stays
/// resident, in pieces, long after it is freed. Call once, early, before threads start.
void tune_heap_for_daemon();

/// Returns the whole free pages of every malloc arena to the system (glibc's malloc_trim);
/// what it released, in bytes of resident memory (0 where not measurable or unsupported).
/// Walks the free lists: call it every few seconds, not per request.
std::size_t release_free_heap();

}  // namespace capf::util
