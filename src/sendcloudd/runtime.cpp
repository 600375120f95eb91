#include "sendcloudd/runtime.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace sc::app {

std::unique_ptr<Runtime> openRuntime(const Settings& settings,
                                     std::function<void(std::string_view)> onError) {
    auto rt = std::make_unique<Runtime>();
    std::error_code ec;
    std::filesystem::create_directories(settings.dataDir, ec);
    if (ec) {
        std::cerr << "sendcloudd: cannot create data dir " << settings.dataDir << ": "
                  << ec.message() << "\n";
        return nullptr;
    }
    ::chmod(settings.dataDir.c_str(), 0700);
    auto secret = auth::ServerSecret::loadOrCreate(settings.secretFilePath(), rt->random);
    if (!secret) {
        std::cerr << "sendcloudd: " << secret.error() << "\n";
        return nullptr;
    }
    rt->secret = std::make_unique<auth::ServerSecret>(std::move(secret).value());
    rt->keys = std::make_unique<auth::KeyMaterial>(*rt->secret);
    try {
        store::SqliteOptions opts;
        opts.path = settings.databasePath();
        opts.onError = onError ? std::move(onError) : [](std::string_view message) {
            std::cerr << "sendcloudd: " << message << "\n";
        };
        rt->backend = std::make_unique<store::SqliteBackend>(opts);
    } catch (const std::exception& e) {
        std::cerr << "sendcloudd: cannot open database " << settings.databasePath() << ": "
                  << e.what() << "\n";
        return nullptr;
    }
    rt->issuer = std::make_unique<auth::CredentialIssuer>(
        rt->backend->credentials(), *rt->keys, rt->random, rt->clock,
        std::chrono::seconds(settings.emailKeyGrace));
    return rt;
}

}  // namespace sc::app
