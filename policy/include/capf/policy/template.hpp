// Device templates: named CAPF defaults (Certificate Operation, Authentication Mode and string
// policy, keys, issuer) bound to a query. A phone a CSV import adds takes the settings of the
// template that matches it, for every setting its row leaves empty; policies use a template's
// settings for the jobs they create.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capf/admin/admin_service.hpp"
#include "capf/core/device.hpp"
#include "capf/core/job.hpp"
#include "capf/inventory/phones_csv.hpp"
#include "capf/inventory/query.hpp"
#include "capf/store/store.hpp"
#include "capf/util/result.hpp"

namespace capf::policy {

/// One device template. Unset fields leave a device's own setting alone.
struct DeviceTemplate {
  std::string name;   ///< 1–64 of [A-Za-z0-9._-]
  std::string where;  ///< the query (jobs/query.hpp) of the devices it is for; "" = every device
  int priority = 0;   ///< when several templates match, the highest priority wins, then the name
  std::optional<CertificateOperation> operation;
  std::optional<AuthMode> auth_mode;
  std::optional<StringPolicy> string_policy;
  std::optional<int> rsa_key_bits;
  std::optional<KeyOrder> key_order;
  std::optional<int> ec_key_bits;
  std::optional<IssuerKind> issuer;  ///< the Certificate Issuer to Endpoint these devices expect
  /// The template's own Authentication String (entered, or made once by Generate String), for
  /// every phone it fills with By Authentication String; secret: stored, never shown.
  std::optional<std::string> auth_string;
  util::UnixTime created_at = 0;
  std::string created_by;
};

/// Template and policy names: 1–64 of [A-Za-z0-9._-].
bool valid_name(std::string_view name);

/// Checks a template (name, query, key sizes, where its Authentication Strings come from); the
/// error names the field.
Result<void> validate(const DeviceTemplate& t);

/// JSON text for the store's templates family, and back (decoding names a bad field).
std::string encode_template(const DeviceTemplate& t);
Result<DeviceTemplate> decode_template(std::string_view json);

/// Every template in name order.
Result<std::vector<DeviceTemplate>> load_templates(const store::Store& store);
/// One template, or nullopt.
Result<std::optional<DeviceTemplate>> load_template(const store::Store& store, const std::string& name);

/// Templates with their parsed queries, in precedence order (priority high to low, then name).
class TemplateSet {
 public:
  static Result<TemplateSet> load(const store::Store& store);
  static Result<TemplateSet> make(std::vector<DeviceTemplate> templates);

  /// The template that applies to a device: the first in precedence order whose query matches.
  const DeviceTemplate* match(const Device& d, util::UnixTime now) const;
  /// Fills a device a CSV import adds from its matching template, for each setting the row
  /// leaves empty (the row always wins). A device that ends up By Authentication String without
  /// a string in its row gets the template's string, or with string policy unique a new random
  /// one (Generate String per phone: `generated_string` is then set).
  admin::NewDeviceDefaultsApplied apply_to_new(Device& d, const inventory::PhoneRow& row, util::UnixTime now) const;

 private:
  std::vector<std::pair<DeviceTemplate, inventory::Query>> items_;
};

/// The import hook admin::AdminService::set_new_device_defaults takes: loads the templates once
/// per import and applies them to each new device.
admin::AdminService::NewDeviceDefaults new_device_defaults(const store::Store& store, const util::Clock& clock);

}  // namespace capf::policy
