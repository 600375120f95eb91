#pragma once
// This node's id, the owner written into the leases it takes (docs/delivery.md "Leases"). Kept in
// <data_dir>/node-id so that a restarted node knows its previous life's leases and takes them
// back at once instead of after the lease timeout.

#include <string>

#include "common/random.h"
#include "common/result.h"

namespace sc::queue {

// Reads the id from `path`, or creates it (16 random bytes in hex) when the file is missing.
Result<std::string, std::string> loadOrCreateNodeId(const std::string& path, Random& random);

}  // namespace sc::queue
