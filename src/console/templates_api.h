#pragma once
// TemplatesApi: an account's email and SMS templates (docs/api.md §15):
//   GET, POST           /console/api/templates                 email templates
//   GET, PATCH, DELETE  /console/api/templates/{invokeName}
//   GET, POST           /console/api/sms-templates             SMS templates
//   GET, PATCH, DELETE  /console/api/sms-templates/{id}
// Another account's template is a 404, the same as a missing one.

#include <string>

#include "common/clock.h"
#include "console/api_room.h"
#include "store/template_store.h"

namespace sc::console {

class TemplatesApi {
public:
    TemplatesApi(store::TemplateStore& templates, const Clock& clock, const SessionGuard& guard);

    void registerRoutes(http::Router& router);

private:
    // Email templates by invokeName and SMS templates by id (empty: the collection).
    http::Response emailTemplates(const SessionCall& call, const std::string& invokeName);
    http::Response smsTemplates(const SessionCall& call, const std::string& id);

    store::TemplateStore& templates_;
    const Clock& clock_;
    const SessionGuard& guard_;
};

}  // namespace sc::console
