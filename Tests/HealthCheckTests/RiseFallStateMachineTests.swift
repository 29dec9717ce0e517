import XCTest
@testable import HealthCheck
