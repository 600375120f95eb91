#include "queue/node_id.h"

#include <fstream>
#include <sstream>

namespace sc::queue {

Result<std::string, std::string> loadOrCreateNodeId(const std::string& path, Random& random) {
    {
        std::ifstream in(path);
        if (in) {
            std::string id;
            std::getline(in, id);
            if (id.size() >= 8 && id.size() <= 64) return id;
            return fail(std::string("node id file ").append(path).append(" is malformed"));
        }
    }
    std::string id = random.hex(16);
    // Written to a temporary name and renamed, so that a crash never leaves a half-written id.
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << id << "\n";
        out.flush();
        if (!out) return fail(std::string("cannot write node id file ").append(tmp));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        return fail(std::string("cannot create node id file ").append(path));
    }
    return id;
}

}  // namespace sc::queue
