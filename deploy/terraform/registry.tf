# The image's repository: tags immutable (a tag names one build forever), scanned on push,
# encrypted with the install's key.
resource "aws_ecr_repository" "merge_assist" {
  name                 = "merge-assist"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.data.arn
  }
}

resource "aws_ecr_lifecycle_policy" "merge_assist" {
  repository = aws_ecr_repository.merge_assist.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest 50 images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 50
      }
      action = { type = "expire" }
    }]
  })
}
