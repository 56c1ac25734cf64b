variable "environment" {
  description = "Deployment environment"
  type        = string
  default     = "staging"
}

variable "db_public" {
  description = "Whether the database gets a public endpoint"
  type        = bool
  default     = false
}

variable "admin_cidrs" {
  type    = list(string)
  default = ["10.20.0.0/16"]
}
