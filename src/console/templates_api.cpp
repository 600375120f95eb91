#include "console/templates_api.h"

#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "console/console_errors.h"
#include "console/str_cat.h"
#include "console/time_param.h"
#include "domain/limits.h"

namespace sc::console {

using api::ApiError;
using nlohmann::json;

namespace {

json emailTemplateView(const store::EmailTemplate& t) {
    return {{"invokeName", t.invokeName},
            {"name", t.name},
            {"subject", t.subject},
            {"html", t.html},
            {"plain", t.plain},
            {"createdAt", formatTimeMs(t.createdAtMs)},
            {"updatedAt", formatTimeMs(t.updatedAtMs)}};
}

json smsTemplateView(const store::SmsTemplate& t) {
    return {{"id", t.id},
            {"name", t.name},
            {"text", t.text},
            {"createdAt", formatTimeMs(t.createdAtMs)},
            {"updatedAt", formatTimeMs(t.updatedAtMs)}};
}

// Copies the string fields of `body` named in `fields` into `out`; refuses any other field.
Result<Ok, ApiError> stringFields(
    const json& body, std::initializer_list<std::pair<const char*, std::string*>> fields) {
    for (const auto& [key, value] : body.items()) {
        bool known = false;
        for (const auto& [name, target] : fields) {
            if (key != name) continue;
            known = true;
            if (!value.is_string())
                return fail(badRequest(strCat("\"", key, "\" must be a string")));
            *target = value.get<std::string>();
        }
        if (!known) return fail(badRequest(strCat("unknown field \"", key.substr(0, 64), "\"")));
    }
    return Ok{};
}

ApiError templateNotFound(std::string_view what) {
    return err(404, "console.not_found", strCat("no ", what));
}

// {"templates": [...]}, each in the view `view` gives it.
template <class Template>
http::Response listAnswer(const Result<std::vector<Template>, store::StoreError>& list,
                          json (*view)(const Template&)) {
    if (!list) return errorOut(storeFailure(list.error()));
    json out = json::array();
    for (const auto& t : list.value()) out.push_back(view(t));
    return ok({{"templates", std::move(out)}});
}

// A store's NotFound is the template's 404; anything else is a store failure.
ApiError templateStoreError(const store::StoreError& e, std::string_view what) {
    return e.kind == store::StoreError::Kind::NotFound ? templateNotFound(what) : storeFailure(e);
}

}  // namespace

TemplatesApi::TemplatesApi(store::TemplateStore& templates, const Clock& clock,
                           const SessionGuard& guard)
    : templates_(templates), clock_(clock), guard_(guard) {}

void TemplatesApi::registerRoutes(http::Router& router) {
    using M = http::Method;
    SessionRoutes routes(router, guard_);
    routes.add({M::Get, M::Post}, "templates", BodyRule::RequiredOnPost,
               [this](const SessionCall& call) { return emailTemplates(call, std::string()); });
    routes.add({M::Get, M::Patch, M::Delete}, "templates/{invokeName}", BodyRule::Optional,
               [this](const SessionCall& call) {
                   return emailTemplates(call, std::string(call.path.get("invokeName")));
               });
    routes.add({M::Get, M::Post}, "sms-templates", BodyRule::RequiredOnPost,
               [this](const SessionCall& call) { return smsTemplates(call, std::string()); });
    routes.add({M::Get, M::Patch, M::Delete}, "sms-templates/{id}", BodyRule::Optional,
               [this](const SessionCall& call) {
                   return smsTemplates(call, std::string(call.path.get("id")));
               });
}

http::Response TemplatesApi::emailTemplates(const SessionCall& call,
                                            const std::string& invokeName) {
    using M = http::Method;
    auto& store = templates_;
    const int64_t account = call.session.accountId;
    const std::string what = strCat("template '", invokeName.substr(0, 64), "'");
    if (invokeName.empty() && call.req.method == M::Get) {
        return listAnswer(store.listEmailTemplates(account), emailTemplateView);
    }
    if (call.req.method == M::Delete) {
        auto r = store.deleteEmailTemplate(account, invokeName);
        if (!r) return errorOut(templateStoreError(r.error(), what));
        return ok({{"deleted", invokeName}});
    }
    store::EmailTemplate t;
    if (!invokeName.empty()) {
        auto found = store.findEmailTemplate(account, invokeName);
        if (!found) return errorOut(storeFailure(found.error()));
        if (!found.value()) return errorOut(templateNotFound(what));
        if (call.req.method == M::Get) return ok({{"template", emailTemplateView(*found.value())}});
        t = *found.value();
    }
    std::string newInvokeName = t.invokeName;
    if (auto r = stringFields(call.body, {{"invokeName", &newInvokeName},
                                          {"name", &t.name},
                                          {"subject", &t.subject},
                                          {"html", &t.html},
                                          {"plain", &t.plain}});
        !r) {
        return errorOut(r.error());
    }
    if (!invokeName.empty() && newInvokeName != invokeName) {
        return errorOut(badRequest("invokeName cannot change; create a new template instead"));
    }
    if (newInvokeName.empty() || newInvokeName.size() > 64 || t.name.size() > 256 ||
        t.subject.size() > domain::kMaxSubjectBytes ||
        t.subject.find_first_of("\r\n") != std::string::npos) {
        return errorOut(err(400, "console.invalid_value",
                            strCat("invokeName must have 1 to 64 characters, name at most 256, "
                                   "and the subject one line of at most ",
                                   std::to_string(domain::kMaxSubjectBytes), " bytes")));
    }
    if (t.html.empty() && t.plain.empty()) {
        return errorOut(err(400, "console.invalid_value", "a template needs html or plain"));
    }
    t.accountId = account;
    t.invokeName = newInvokeName;
    if (t.name.empty()) t.name = t.invokeName;
    t.updatedAtMs = clock_.nowMillis();
    if (invokeName.empty()) t.createdAtMs = t.updatedAtMs;
    auto saved = invokeName.empty() ? store.createEmailTemplate(t) : store.updateEmailTemplate(t);
    if (!saved) {
        if (saved.error().kind == store::StoreError::Kind::Conflict) {
            return errorOut(err(
                409, "console.name_taken",
                strCat("a template with invokeName '", t.invokeName.substr(0, 64), "' exists")));
        }
        return errorOut(templateStoreError(saved.error(), what));
    }
    return ok({{"template", emailTemplateView(saved.value())}});
}

http::Response TemplatesApi::smsTemplates(const SessionCall& call, const std::string& idText) {
    using M = http::Method;
    auto& store = templates_;
    const int64_t account = call.session.accountId;
    if (idText.empty() && call.req.method == M::Get) {
        return listAnswer(store.listSmsTemplates(account), smsTemplateView);
    }
    int64_t id = 0;
    if (!idText.empty()) {
        auto parsed = domain::parseTemplateId(idText);
        if (!parsed) return errorOut(templateNotFound("such SMS template"));
        id = *parsed;
        // Ids start at 1. An item path only reads or changes what exists: were 0 read as "new",
        // PATCH /sms-templates/0 would create a template (creating is POST on the collection).
        if (id == 0) return errorOut(templateNotFound("such SMS template"));
    }
    const std::string what = strCat("SMS template ", idText);
    if (call.req.method == M::Delete) {
        auto r = store.deleteSmsTemplate(account, id);
        if (!r) return errorOut(templateStoreError(r.error(), what));
        return ok({{"deleted", id}});
    }
    store::SmsTemplate t;
    if (id != 0) {
        auto found = store.findSmsTemplate(account, id);
        if (!found) return errorOut(storeFailure(found.error()));
        if (!found.value()) return errorOut(templateNotFound(what));
        if (call.req.method == M::Get) return ok({{"template", smsTemplateView(*found.value())}});
        t = *found.value();
    }
    if (auto r = stringFields(call.body, {{"name", &t.name}, {"text", &t.text}}); !r) {
        return errorOut(r.error());
    }
    if (t.text.empty() || t.text.size() > 4000 || t.name.size() > 256) {
        return errorOut(
            err(400, "console.invalid_value",
                "an SMS template needs a text of at most 4000 bytes (name at most 256)"));
    }
    t.accountId = account;
    t.updatedAtMs = clock_.nowMillis();
    if (id == 0) t.createdAtMs = t.updatedAtMs;
    auto saved = id == 0 ? store.createSmsTemplate(t) : store.updateSmsTemplate(t);
    if (!saved) {
        return errorOut(templateStoreError(saved.error(), what));
    }
    return ok({{"template", smsTemplateView(saved.value())}});
}

}  // namespace sc::console
