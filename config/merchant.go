package config

// CheckMerchant checks a merchant made at run time (the admin API) as the config file's
// merchants are checked: names are the usernames and aliases already taken; the error
// names the field ("merchant.currencies[0].min").
func (c *Config) CheckMerchant(m MerchantConfig, names map[string]bool) error {
	return c.validateMerchant("merchant", m, names)
}
