// Writes TZif bytes (RFC 8536) from a plain description, for tests of inputs that no real tzdata
// file has: version 1 files, odd footers, corrupt fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace todo::testing {

struct TzifType {
  std::int32_t utc_offset = 0;
  bool is_dst = false;
  std::string abbreviation;
};

struct TzifSpec {
  char version = '2';  // '\0' for version 1: 32-bit data and no footer
  std::vector<std::int64_t> times;
  std::vector<std::uint8_t> type_of_time;
  std::vector<TzifType> types;
  std::string footer;  // the TZ string, without its newlines (version 2+)
};

namespace tzif_detail {
inline void put_be(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

inline void put_header(std::string& out, char version, std::uint32_t timecnt, std::uint32_t typecnt,
                       std::uint32_t charcnt) {
  out += "TZif";
  out.push_back(version);
  out.append(15, '\0');
  for (std::uint32_t count : {0u, 0u, 0u, timecnt, typecnt, charcnt}) put_be(out, count, 4);
}

inline void put_block(std::string& out, const TzifSpec& spec, int time_size) {
  std::string chars;
  std::vector<std::uint8_t> abbreviation_index;
  for (const TzifType& type : spec.types) {
    abbreviation_index.push_back(static_cast<std::uint8_t>(chars.size()));
    chars += type.abbreviation;
    chars.push_back('\0');
  }
  put_header(out, spec.version, static_cast<std::uint32_t>(spec.times.size()),
             static_cast<std::uint32_t>(spec.types.size()),
             static_cast<std::uint32_t>(chars.size()));
  for (std::int64_t t : spec.times) put_be(out, static_cast<std::uint64_t>(t), time_size);
  for (std::uint8_t i : spec.type_of_time) out.push_back(static_cast<char>(i));
  for (std::size_t i = 0; i < spec.types.size(); ++i) {
    put_be(out, static_cast<std::uint32_t>(spec.types[i].utc_offset), 4);
    out.push_back(spec.types[i].is_dst ? 1 : 0);
    out.push_back(static_cast<char>(abbreviation_index[i]));
  }
  out += chars;
}
}  // namespace tzif_detail

inline std::string build_tzif(const TzifSpec& spec) {
  std::string out;
  if (spec.version == '\0') {
    tzif_detail::put_block(out, spec, 4);
    return out;
  }
  // A minimal version 1 block, as `zic -b slim` writes it, then the 64-bit block and the footer.
  tzif_detail::put_header(out, spec.version, 0, 1, 1);
  out.append(6, '\0');  // one type: offset 0, not DST, abbreviation index 0
  out.push_back('\0');  // its abbreviation: ""
  tzif_detail::put_block(out, spec, 8);
  out += "\n" + spec.footer + "\n";
  return out;
}

}  // namespace todo::testing
